/**
 * Batch normalization over all dims but the channel dim (dim 1): validation and dispatch. Float
 * inputs run as the fused kernels (lib/ops/batch-norm-fused.ts); the rest as composed ops
 * (lib/ops/batch-norm-composed.ts), which stay the fused kernels' oracle.
 */
import { NodegradError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { batchNormComposed } from './batch-norm-composed.js';
import { fusedBatchNorm, fusedBatchNormApplies, type FusedBatchNormArgs } from './batch-norm-fused.js';
import { relu } from './elementwise.js';

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** Per-channel mean [C]: used when not training, updated in place when training. */
  runningMean?: Tensor | null;
  /** Per-channel variance [C]: used when not training, updated (unbiased) in place when training. */
  runningVar?: Tensor | null;
  /** Per-channel scale γ [C] (none when omitted). */
  weight?: Tensor | null;
  /** Per-channel shift β [C] (none when omitted). */
  bias?: Tensor | null;
  /** Batch statistics (and running-stat updates) when true; running statistics when false. */
  training?: boolean;
  /** Weight of the new batch in the running average; null = cumulative average. Default 0.1. */
  momentum?: number | null;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** With momentum null: the number of batches seen so far, including this one. */
  batchesTracked?: number;
}

/** Throws unless x is [N, C, ...] with per-channel tensors [C] and, when training, more than one value per channel. */
function checkBatchNorm(op: string, x: Tensor, o: BatchNormOptions, training: boolean): void {
  if (x.ndim < 2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected input of shape [N, C, ...], got ${formatShape(x.shape)}`,
    );
  }
  const C = x.shape[1];
  for (const name of ['runningMean', 'runningVar', 'weight', 'bias'] as const) {
    const t = o[name];
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${op}: expected ${name} of shape [${C}], got ${formatShape(t.shape)}`,
      );
    }
  }
  if (!training && (!o.runningMean || !o.runningVar)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: eval mode needs runningMean and runningVar`);
  }
  if (training && x.numel / C <= 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected more than 1 value per channel when training, got input of shape ${formatShape(x.shape)}`,
    );
  }
}

/** The fused kernels' arguments when they take this call (see fusedBatchNormApplies), else null. */
function fusedArgs(x: Tensor, o: BatchNormOptions, relu: boolean): FusedBatchNormArgs | null {
  const training = o.training ?? true;
  const momentum = o.momentum === undefined ? 0.1 : o.momentum;
  const args: FusedBatchNormArgs = {
    runningMean: o.runningMean ?? null,
    runningVar: o.runningVar ?? null,
    weight: o.weight ?? null,
    bias: o.bias ?? null,
    training,
    factor: momentum ?? 1 / Math.max(o.batchesTracked ?? 1, 1),
    eps: o.eps ?? 1e-5,
    relu,
  };
  return fusedBatchNormApplies(x, args) ? args : null;
}

/**
 * Batch normalization of x [N, C, ...] over every dim but the channel dim, as
 * torch.nn.functional.batch_norm: (x − mean) / sqrt(var + eps) · weight + bias. Training (the
 * default) uses the batch's statistics and updates the running ones in place; otherwise the running
 * ones. Float inputs with per-channel tensors of their dtype run as fused kernels (one statistics
 * pass, one normalize pass); anything else as composed ops.
 */
export function batchNorm(x: Tensor, options: BatchNormOptions = {}): Tensor {
  checkBatchNorm('batchNorm', x, options, options.training ?? true);
  const fused = fusedArgs(x, options, false);
  return fused ? fusedBatchNorm(x, fused) : batchNormComposed(x, options);
}

/**
 * relu(batchNorm(x, options)) with the ReLU applied in batch norm's normalize pass, and its
 * gradient mask in batch norm's backward: the pair Conv → BatchNorm → ReLU of ResNet's blocks costs
 * one element-wise pass instead of two. PyTorch has no single name for it
 * (`F.relu(F.batch_norm(x, ...))`). Shape: the output has x's shape [N, C, ...].
 */
export function batchNormRelu(x: Tensor, options: BatchNormOptions = {}): Tensor {
  checkBatchNorm('batchNormRelu', x, options, options.training ?? true);
  const fused = fusedArgs(x, options, true);
  return fused ? fusedBatchNorm(x, fused) : relu(batchNormComposed(x, options));
}
