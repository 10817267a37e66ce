/**
 * Batch norm as the backend's fused kernels: one statistics pass and one normalize-affine(-ReLU)
 * pass forward, one reduction pass and one dx pass backward, against the composed ops' five
 * full-size temporaries each way. The forward saves x and the per-channel mean and invstd only.
 * The composed batch norm (lib/ops/norm.ts) stays the oracle and runs what this does not take.
 */
import { getBackend } from '../backend/index.js';
import type { BatchNormParams, FloatArray } from '../backend/types.js';
import { record } from '../autograd/node.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { denseArray } from './shape.js';

/** The resolved arguments of a fused batch norm; tensors are [C] unless said otherwise. */
export interface FusedBatchNormArgs {
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  weight: Tensor | null;
  bias: Tensor | null;
  /** Batch statistics (updating the running ones) when true. */
  training: boolean;
  /** Weight of this batch in the running statistics (1/batches for a cumulative average). */
  factor: number;
  eps: number;
  /** Applies max(y, 0) in the same pass. */
  relu: boolean;
}

/**
 * Whether the fused kernels take x with these arguments: a float x [N, C, ...], every per-channel
 * tensor of x's dtype, the running statistics dense (they are written in place), a momentum in [0, 1].
 */
export function fusedBatchNormApplies(x: Tensor, a: Omit<FusedBatchNormArgs, 'relu'>): boolean {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') return false;
  // The kernels take a momentum in [0, 1] (PyTorch's range in practice); anything else runs composed.
  if (!(a.factor >= 0 && a.factor <= 1)) return false;
  const perChannel = [a.weight, a.bias, a.runningMean, a.runningVar];
  if (perChannel.some((t) => t !== null && t.dtype !== x.dtype)) return false;
  return [a.runningMean, a.runningVar].every((t) => t === null || t.isContiguous());
}

/** The dense [C] array of a running statistic, written in place by the kernel. */
function runningData(t: Tensor | null): FloatArray | null {
  return t ? (t.storage.data as FloatArray).subarray(t.offset, t.offset + t.numel) : null;
}

/**
 * y = (x − mean) / √(var + eps) · weight + bias per channel (then ReLU) through the fused kernels;
 * the caller has validated the shapes and checked {@link fusedBatchNormApplies}.
 */
export function fusedBatchNorm(x: Tensor, a: FusedBatchNormArgs): Tensor {
  const backend = getBackend();
  const C = x.shape[1];
  const batch = x.shape[0];
  const params: BatchNormParams = {
    batch,
    channels: C,
    plane: batch * C === 0 ? 0 : x.numel / (batch * C),
    eps: a.eps,
    momentum: a.factor,
    training: a.training,
    relu: a.relu,
  };
  const xd = denseArray(x);
  const wd = a.weight ? denseArray(a.weight) : null;
  const bd = a.bias ? denseArray(a.bias) : null;
  const out = uninitTensor(x.shape, x.dtype);
  const saveMean = uninitTensor([C], x.dtype);
  const saveInvstd = uninitTensor([C], x.dtype);
  const meanData = saveMean.storage.data as FloatArray;
  const invstdData = saveInvstd.storage.data as FloatArray;
  const running = a.training ? [a.runningMean, a.runningVar] : [];
  backend.batchNormForward(
    params,
    xd,
    wd,
    bd,
    runningData(a.runningMean),
    runningData(a.runningVar),
    out.storage.data as FloatArray,
    meanData,
    invstdData,
  );
  for (const t of running) t?.storage.bump('batchNorm');
  const { weight, bias } = a;
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(
    a.relu ? 'batchNormRelu' : 'batchNorm',
    out,
    inputs,
    (g) => {
      const gradInput = x.requiresGrad ? uninitTensor(x.shape, x.dtype) : null;
      const gradWeight = weight?.requiresGrad ? uninitTensor(weight.shape, x.dtype) : null;
      const gradBias = bias?.requiresGrad ? uninitTensor(bias.shape, x.dtype) : null;
      const data = (t: Tensor | null) => (t ? (t.storage.data as FloatArray) : null);
      backend.batchNormBackward(
        params,
        xd,
        denseArray(g.dtype === x.dtype ? g : g.to(x.dtype)),
        wd,
        bd,
        meanData,
        invstdData,
        data(gradInput),
        data(gradWeight),
        data(gradBias),
      );
      return [gradInput, ...(weight ? [gradWeight] : []), ...(bias ? [gradBias] : [])];
    },
    [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])],
  );
}
