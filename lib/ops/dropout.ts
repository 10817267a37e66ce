/** Inverted dropout: zeroes each element with probability p and scales the rest by 1 / (1 − p). */
import { NodegradError } from '../errors.js';
import { nextUniform } from '../tensor/random.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { mul } from './elementwise.js';

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
