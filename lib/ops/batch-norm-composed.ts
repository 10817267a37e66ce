/**
 * Batch norm composed from element-wise ops and reductions: the oracle of the fused kernels
 * (lib/ops/batch-norm-fused.ts) and the path of int32 inputs and mixed dtypes. Training normalizes
 * with the batch's biased variance and updates running statistics in place with the unbiased one,
 * as PyTorch does. The caller (lib/ops/norm.ts) has validated the arguments.
 */
import { getBackend } from '../backend/index.js';
import { BinaryOp } from '../backend/types.js';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { broadcastStrides } from '../tensor/shape.js';
import { NodegradError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { add, div, mul, neg, sqrt, sub } from './elementwise.js';
import type { BatchNormOptions } from './norm.js';
import { mean } from './reduce.js';
import { reshape } from './shape.js';

/** running = (1 − f)·running + f·batch, in place; the variance enters unbiased (n / (n − 1)). */
function updateRunningStats(
  runningMean: Tensor,
  runningVar: Tensor,
  mu: Tensor,
  variance: Tensor,
  count: number,
  factor: number,
): void {
  noGrad(() => {
    const C = runningMean.shape[0];
    const unbiased = mul(reshape(variance, [C]), count / (count - 1));
    const newMean = add(mul(runningMean, 1 - factor), mul(reshape(mu, [C]), factor)).data();
    const newVar = add(mul(runningVar, 1 - factor), mul(unbiased, factor)).data();
    writeInPlace('batchNorm', runningMean, (values) => values.set(newMean));
    writeInPlace('batchNorm', runningVar, (values) => values.set(newVar));
  });
}

/**
 * The mean and biased variance to normalize with, shaped [1, C, 1, ...]: the batch's in training
 * (updating the running statistics), the running ones in eval mode. `recycle` returns the
 * temporaries to the pool at once (only without grad, where nothing else can hold them).
 */
function statistics(
  x: Tensor,
  dims: number[],
  channelShape: number[],
  o: Pick<BatchNormOptions, 'training' | 'momentum' | 'runningMean' | 'runningVar' | 'batchesTracked'>,
  recycle: boolean,
): { mu: Tensor; variance: Tensor } {
  if (!o.training) {
    if (!o.runningMean || !o.runningVar) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'batchNorm: eval mode needs runningMean and runningVar');
    }
    return { mu: reshape(o.runningMean, channelShape), variance: reshape(o.runningVar, channelShape) };
  }
  const count = x.numel / x.shape[1];
  const mu = mean(x, dims, true);
  const centered = sub(x, mu);
  const squared = mul(centered, centered);
  const variance = mean(squared, dims, true);
  if (recycle) {
    centered.storage.recycle();
    squared.storage.recycle();
  }
  if (o.runningMean && o.runningVar) {
    updateRunningStats(
      o.runningMean,
      o.runningVar,
      mu,
      variance,
      count,
      o.momentum ?? 1 / Math.max(o.batchesTracked ?? 1, 1),
    );
  }
  return { mu, variance };
}

/**
 * Batch norm composed from element-wise ops and reductions: the oracle of the fused kernels, and
 * the path of int32 inputs and mixed dtypes.
 */
export function batchNormComposed(x: Tensor, options: BatchNormOptions = {}): Tensor {
  const { runningMean = null, runningVar = null, weight = null, bias = null, eps = 1e-5 } = options;
  const training = options.training ?? true;
  const momentum = options.momentum === undefined ? 0.1 : options.momentum;
  const C = x.shape[1];
  const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
  if (!isGradEnabled())
    return batchNormNoGrad(x, dims, { ...options, training, momentum, eps, runningMean, runningVar, weight, bias });
  const channelShape = [1, C, ...Array.from({ length: x.ndim - 2 }, () => 1)];
  const asChannel = (t: Tensor) => reshape(t, channelShape);
  const { mu, variance } = statistics(
    x,
    dims,
    channelShape,
    { training, momentum, runningMean, runningVar, batchesTracked: options.batchesTracked },
    false,
  );
  let y = div(sub(x, mu), sqrt(add(variance, eps)));
  if (weight) y = mul(y, asChannel(weight));
  if (bias) y = add(y, asChannel(bias));
  return y;
}

/**
 * Without grad, y = x·a + c with per-channel a = w / √(var + ε) and c = b − mean·a: one full-size
 * output (written by the multiply, the shift added in place) instead of the composed ops' five.
 */
function batchNormNoGrad(
  x: Tensor,
  dims: number[],
  o: Required<Pick<BatchNormOptions, 'training' | 'eps'>> & BatchNormOptions,
): Tensor {
  const C = x.shape[1];
  const channelShape = [1, C, ...Array.from({ length: x.ndim - 2 }, () => 1)];
  const { mu, variance } = statistics(x, dims, channelShape, o, true);
  let scale = div(1, sqrt(add(variance, o.eps)));
  if (o.weight) scale = mul(scale, reshape(o.weight, channelShape));
  let shift = neg(mul(mu, scale));
  if (o.bias) shift = add(shift, reshape(o.bias, channelShape));
  const y = mul(x, scale.to(x.dtype === 'int32' ? 'float32' : x.dtype));
  const s = shift.to(y.dtype);
  getBackend().binary(
    BinaryOp.Add,
    y.shape,
    { data: y.storage.data, offset: 0, strides: y.strides },
    { data: s.storage.data, offset: s.offset, strides: broadcastStrides(s.shape, s.strides, y.shape) },
    y.storage.data,
  );
  return y;
}
