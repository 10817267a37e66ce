/** Dropout: inverted element dropout, channel dropout (1-D, 2-D) and SELU-preserving alpha dropout. */
import { NodegradError, formatShape } from '../errors.js';
import { nextUniform } from '../tensor/random.js';
import { uninitTensor, zerosTensor, type Tensor } from '../tensor/tensor.js';
import { add, mul } from './elementwise.js';

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** Identity when false (eval mode). Default true. */
  training?: boolean;
}

/** dropout(x, p): the mask comes from the seeded generator, so a seed reproduces it. */
export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `dropout: probability must be in [0, 1], got ${p}`);
  }
  if (options.training === false || p === 0) return x;
  const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
  const mask = uninitTensor(x.shape, dtype);
  const m = mask.storage.data;
  const keep = 1 - p;
  const scale = keep === 0 ? 0 : 1 / keep;
  for (let i = 0; i < m.length; i++) m[i] = nextUniform() < keep ? scale : 0;
  // mul saves the mask (not x) for x's gradient: g * mask.
  return mul(x, mask);
}

/**
 * Zeroes whole channels: a mask entry per leading index (the dims before the last `spatial`),
 * shared along the spatial dims. `ndim` must be spatial + 1 (unbatched) or spatial + 2.
 */
function channelDropout(op: string, spatial: number, x: Tensor, p: number, options: DropoutOptions): Tensor {
  if (!(p >= 0 && p <= 1)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: probability must be in [0, 1], got ${p}`);
  }
  if (x.ndim !== spatial + 1 && x.ndim !== spatial + 2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected ${spatial + 1}-D or ${spatial + 2}-D input, got ${formatShape(x.shape)}`,
    );
  }
  if (options.training === false || p === 0) return x;
  const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
  const maskShape = x.shape.map((s, i) => (i < x.ndim - spatial ? s : 1));
  const mask = uninitTensor(maskShape, dtype);
  const m = mask.storage.data;
  const keep = 1 - p;
  const scale = keep === 0 ? 0 : 1 / keep;
  for (let i = 0; i < m.length; i++) m[i] = nextUniform() < keep ? scale : 0;
  return mul(x, mask);
}

/**
 * Channel dropout of [N, C, L] or [C, L] input, as `torch.nn.functional.dropout1d`: each channel is
 * zeroed whole with probability p, the rest scaled by 1 / (1 − p). Identity when not training.
 */
export function dropout1d(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  return channelDropout('dropout1d', 1, x, p, options);
}

/**
 * Channel dropout of [N, C, H, W] or [C, H, W] input, as `torch.nn.functional.dropout2d`: each
 * channel (feature map) is zeroed whole with probability p, the rest scaled by 1 / (1 − p).
 */
export function dropout2d(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  return channelDropout('dropout2d', 2, x, p, options);
}

/** −scale·alpha of SELU: the value SELU saturates to, which alpha dropout sets dropped inputs to. */
const SELU_SATURATION = -1.7580993408473766;

/**
 * Alpha dropout, as `torch.nn.functional.alpha_dropout`: dropped elements are set to SELU's negative
 * saturation and the result is affinely rescaled so a zero-mean, unit-variance input keeps its mean
 * and variance. Identity when not training.
 */
export function alphaDropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `alphaDropout: probability must be in [0, 1], got ${p}`);
  }
  if (options.training === false || p === 0) return x;
  const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
  if (p === 1) return mul(x, zerosTensor(x.shape, dtype));
  const a = 1 / Math.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p));
  const mask = uninitTensor(x.shape, dtype);
  const shift = uninitTensor(x.shape, dtype);
  const m = mask.storage.data;
  const s = shift.storage.data;
  for (let i = 0; i < m.length; i++) {
    const kept = nextUniform() < 1 - p;
    m[i] = kept ? a : 0;
    s[i] = a * SELU_SATURATION * ((kept ? 0 : 1) - p);
  }
  return add(mul(x, mask), shift);
}
