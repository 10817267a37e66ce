/**
 * Row normalizations with fused native kernels: layerNorm and rmsNorm normalize the trailing
 * `normalizedShape` dims; groupNorm and instanceNorm reshape to rows of one group or one channel and
 * apply their per-channel affine with composed ops. The forward saves only each row's mean and rstd
 * (and x, weight), which is all the backward reads.
 */
import { getBackend } from '../backend/index.js';
import type { FloatArray } from '../backend/types.js';
import { noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { numelOf } from '../tensor/shape.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { add, mul } from './elementwise.js';
import { mean as meanOf } from './reduce.js';
import { batchNorm } from './norm.js';
import { denseArray, reshape } from './shape.js';
import { variance } from './stats.js';

/** The machine epsilon of a float dtype: RMSNorm's default eps, as torch.finfo(dtype).eps. */
export function floatEps(dtype: 'float32' | 'float64'): number {
  return dtype === 'float64' ? 2 ** -52 : 2 ** -23;
}

function checkFloat(op: string, x: Tensor): 'float32' | 'float64' {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') {
    throw new NodegradError('ERR_NODEGRAD_DTYPE', `${op}: expected a float32 or float64 input, got ${x.dtype}`);
  }
  return x.dtype;
}

function checkParam(op: string, name: string, t: Tensor | null, shape: readonly number[], dtype: string): void {
  if (!t) return;
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected ${name} of shape ${formatShape(shape)}, got ${formatShape(t.shape)}`,
    );
  }
  if (t.dtype !== dtype) {
    throw new NodegradError('ERR_NODEGRAD_DTYPE', `${op}: expected ${name} of dtype ${dtype}, got ${t.dtype}`);
  }
}

/**
 * Normalizes each of the `rows` rows of `cols` elements of x (read densely): the op behind every
 * norm here. weight and bias are [cols] (or null); rms skips the mean.
 */
function rowNorm(
  op: string,
  x: Tensor,
  rows: number,
  cols: number,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
  rms: boolean,
): Tensor {
  const backend = getBackend();
  const params = { rows, cols, eps, rms };
  const xd = denseArray(x);
  const wd = weight ? denseArray(weight) : null;
  const out = uninitTensor(x.shape, x.dtype);
  const mean = rms ? null : uninitTensor([rows], x.dtype);
  const rstd = uninitTensor([rows], x.dtype);
  const meanData = mean ? (mean.storage.data as FloatArray) : null;
  const rstdData = rstd.storage.data as FloatArray;
  backend.layerNormForward(
    params,
    xd,
    wd,
    bias ? denseArray(bias) : null,
    out.storage.data as FloatArray,
    meanData,
    rstdData,
  );
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(
    op,
    out,
    inputs,
    (g) => {
      const gradInput = x.requiresGrad ? uninitTensor(x.shape, x.dtype) : null;
      const gradWeight = weight?.requiresGrad ? uninitTensor(weight.shape, x.dtype) : null;
      const gradBias = bias?.requiresGrad ? uninitTensor(bias.shape, x.dtype) : null;
      const data = (t: Tensor | null) => (t ? (t.storage.data as FloatArray) : null);
      backend.layerNormBackward(
        params,
        xd,
        denseArray(g.dtype === x.dtype ? g : g.to(x.dtype)),
        wd,
        meanData,
        rstdData,
        data(gradInput),
        data(gradWeight),
        data(gradBias),
      );
      return [gradInput, ...(weight ? [gradWeight] : []), ...(bias ? [gradBias] : [])];
    },
    weight ? [x, weight] : [x],
  );
}

/** The number of rows and their length when x's trailing dims are `normalizedShape`. */
function trailingRows(op: string, x: Tensor, normalizedShape: number | readonly number[]): [number[], number, number] {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const tail = x.shape.slice(x.ndim - shape.length);
  if (shape.length === 0 || shape.length > x.ndim || tail.some((s, i) => s !== shape[i])) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected input with trailing dims ${formatShape(shape)} (normalizedShape), got ${formatShape(x.shape)}`,
    );
  }
  const cols = numelOf(shape);
  return [shape, cols === 0 ? 0 : x.numel / cols, cols];
}

/**
 * Layer normalization over the trailing `normalizedShape` dims, as `torch.nn.functional.layer_norm`:
 * (x − mean) / √(var + eps) · weight + bias, with the biased variance of each slice. x: float32 or
 * float64 of shape [*, ...normalizedShape]; weight and bias: normalizedShape (or null). eps default 1e-5.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const dtype = checkFloat('layerNorm', x);
  const [shape, rows, cols] = trailingRows('layerNorm', x, normalizedShape);
  checkParam('layerNorm', 'weight', weight, shape, dtype);
  checkParam('layerNorm', 'bias', bias, shape, dtype);
  return rowNorm('layerNorm', x, rows, cols, weight, bias, eps, false);
}

/**
 * Root-mean-square normalization over the trailing `normalizedShape` dims, as PyTorch 2.4's
 * `torch.nn.functional.rms_norm`: x · rsqrt(mean(x²) + eps) · weight. eps defaults to the machine
 * epsilon of x's dtype (torch.finfo(dtype).eps); weight: normalizedShape (or null).
 */
export function rmsNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null = null,
  eps?: number | null,
): Tensor {
  const dtype = checkFloat('rmsNorm', x);
  const [shape, rows, cols] = trailingRows('rmsNorm', x, normalizedShape);
  checkParam('rmsNorm', 'weight', weight, shape, dtype);
  return rowNorm('rmsNorm', x, rows, cols, weight, null, eps ?? floatEps(dtype), true);
}

/** y · weight + bias with weight and bias [C] broadcast along dim 1 of y [N, C, ...]. */
function channelAffine(y: Tensor, weight: Tensor | null, bias: Tensor | null): Tensor {
  const channelShape = [1, y.shape[1], ...Array.from({ length: y.ndim - 2 }, () => 1)];
  let out = y;
  if (weight) out = mul(out, reshape(weight, channelShape));
  if (bias) out = add(out, reshape(bias, channelShape));
  return out;
}

function checkChannels(op: string, x: Tensor): number {
  if (x.ndim < 2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected input of shape [N, C, ...], got ${formatShape(x.shape)}`,
    );
  }
  return x.shape[1];
}

/**
 * Group normalization, as `torch.nn.functional.group_norm`: the C channels of x [N, C, ...] split
 * into numGroups groups, each (sample, group) normalized over its channels and positions, then the
 * per-channel weight and bias [C] applied. eps default 1e-5.
 */
export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const dtype = checkFloat('groupNorm', x);
  const C = checkChannels('groupNorm', x);
  if (!Number.isInteger(numGroups) || numGroups < 1 || C % numGroups !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `groupNorm: expected numGroups to divide the ${C} channels of input ${formatShape(x.shape)}, got ${numGroups}`,
    );
  }
  checkParam('groupNorm', 'weight', weight, [C], dtype);
  checkParam('groupNorm', 'bias', bias, [C], dtype);
  const rows = x.shape[0] * numGroups;
  const y = rowNorm('groupNorm', x, rows, rows === 0 ? 0 : x.numel / rows, null, null, eps, false);
  return channelAffine(y, weight, bias);
}

/** Options of {@link instanceNorm} (torch.nn.functional.instance_norm's keyword arguments). */
export interface InstanceNormOptions {
  /** Per-channel running mean [C]: updated in place with input statistics, used without them. */
  runningMean?: Tensor | null;
  /** Per-channel running (unbiased) variance [C]. */
  runningVar?: Tensor | null;
  /** Per-channel scale [C]. */
  weight?: Tensor | null;
  /** Per-channel shift [C]. */
  bias?: Tensor | null;
  /** Normalize with each instance's statistics (default true); false uses the running ones. */
  useInputStats?: boolean;
  /** Weight of this batch in the running statistics. Default 0.1. */
  momentum?: number;
  /** Added to the variance before its square root. Default 1e-5. */
  eps?: number;
}

/** running = (1 − m)·running + m·batch mean over N of the per-instance mean and unbiased variance. */
function updateInstanceStats(x: Tensor, runningMean: Tensor, runningVar: Tensor, momentum: number): void {
  noGrad(() => {
    const [N, C] = x.shape;
    const rowsView = reshape(x, [N, C, x.numel / (N * C)]);
    const mu = meanOf(meanOf(rowsView, 2), 0).data();
    const v = meanOf(variance(rowsView, 2), 0).data();
    writeInPlace('instanceNorm', runningMean, (values) => {
      for (let c = 0; c < C; c++) values[c] = (1 - momentum) * values[c] + momentum * mu[c];
    });
    writeInPlace('instanceNorm', runningVar, (values) => {
      for (let c = 0; c < C; c++) values[c] = (1 - momentum) * values[c] + momentum * v[c];
    });
  });
}

/**
 * Instance normalization, as `torch.nn.functional.instance_norm`: each (sample, channel) of
 * x [N, C, ...] normalized over its positions, then the per-channel weight and bias applied. With
 * running statistics given they are updated in place; `useInputStats: false` normalizes with them.
 */
export function instanceNorm(x: Tensor, options: InstanceNormOptions = {}): Tensor {
  const { runningMean = null, runningVar = null, weight = null, bias = null, momentum = 0.1, eps = 1e-5 } = options;
  const dtype = checkFloat('instanceNorm', x);
  const C = checkChannels('instanceNorm', x);
  for (const [name, t] of [
    ['runningMean', runningMean],
    ['runningVar', runningVar],
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    checkParam('instanceNorm', name, t, [C], name.startsWith('running') ? (t?.dtype ?? dtype) : dtype);
  }
  if (options.useInputStats === false) {
    return batchNorm(x, { runningMean, runningVar, weight, bias, eps, training: false });
  }
  const rows = x.shape[0] * C;
  const cols = rows === 0 ? 0 : x.numel / rows;
  if (cols <= 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `instanceNorm: expected more than 1 spatial element per channel, got input of shape ${formatShape(x.shape)}`,
    );
  }
  if (runningMean && runningVar) updateInstanceStats(x, runningMean, runningVar, momentum);
  const y = rowNorm('instanceNorm', x, rows, cols, null, null, eps, false);
  return channelAffine(y, weight, bias);
}
