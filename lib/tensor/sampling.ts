/**
 * Sampling functions over the seeded generator: randint, randperm, bernoulli, multinomial. Each
 * reads the generator in element order, so a manualSeed reproduces the same tensor.
 */
import type { DType } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import { nextBelow, nextUniform } from './random.js';
import { checkShape, numelOf, type Shape } from './shape.js';
import { arrayFor } from './storage.js';
import { fromArray, type Tensor } from './tensor.js';

/** Options of {@link randint} and {@link randperm}. */
export interface SampleOptions {
  /** Element type of the result (int32 unless given). */
  dtype?: DType;
}

/**
 * Integers drawn uniformly from [low, high): `randint(0, 10, [3])` or `randint(10, [3])`.
 */
export function randint(high: number, shape: Shape, options?: SampleOptions): Tensor;
export function randint(low: number, high: number, shape: Shape, options?: SampleOptions): Tensor;
export function randint(
  low: number,
  high: number | Shape,
  shape?: Shape | SampleOptions,
  options: SampleOptions = {},
): Tensor {
  let from = low;
  let to: number;
  let dims: Shape;
  let opts = options;
  if (typeof high === 'number') {
    to = high;
    dims = shape as Shape;
  } else {
    [from, to, dims] = [0, low, high];
    opts = (shape as SampleOptions | undefined) ?? {};
  }
  if (!Array.isArray(dims)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'randint: expected a shape array, e.g. randint(0, 10, [3])');
  }
  if (!Number.isInteger(from) || !Number.isInteger(to)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `randint: low and high must be integers, got ${from} and ${to}`);
  }
  if (from >= to) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `randint: expected low < high, got low = ${from} and high = ${to}`,
    );
  }
  const dtype = opts.dtype ?? 'int32';
  if (dtype === 'int32' && (from < -2147483648 || to - 1 > 2147483647)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `randint: range [${from}, ${to}) does not fit int32`);
  }
  if (to - from > 4294967296) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `randint: range [${from}, ${to}) is wider than 2^32`);
  }
  checkShape('randint', dims);
  const out = arrayFor(dtype, numelOf(dims));
  for (let i = 0; i < out.length; i++) out[i] = from + nextBelow(to - from);
  return fromArray(out, dims);
}

/** A random permutation of 0..n-1 (Fisher–Yates), int32 unless `dtype` says otherwise. */
export function randperm(n: number, options: SampleOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `randperm: n must be a non-negative integer, got ${n}`);
  }
  const out = arrayFor(options.dtype ?? 'int32', n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = nextBelow(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return fromArray(out, [n]);
}

/** Checks that every value is a probability in [0, 1], naming the op. */
export function checkProbabilities(op: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] >= 0 && values[i] <= 1)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${op}: expected probabilities in [0, 1], got ${values[i]} at index ${i}`,
      );
    }
  }
}

/** 1 with probability p[i], else 0, in p's shape and dtype. */
export function bernoulli(p: Tensor): Tensor {
  if (p.dtype === 'int32') {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      "bernoulli: expected a float tensor of probabilities, got int32; use p.to('float32')",
    );
  }
  const probs = p.data();
  checkProbabilities('bernoulli', probs);
  const out = arrayFor(p.dtype, probs.length);
  for (let i = 0; i < out.length; i++) out[i] = nextUniform() < probs[i] ? 1 : 0;
  return fromArray(out, p.shape);
}

/** Options of {@link multinomial}. */
export interface MultinomialOptions {
  /** Draw with replacement (default false: each category at most once per row). */
  replacement?: boolean;
}

/** Index of the first cumulative weight above u (binary search). */
function searchCumulative(cumulative: Float64Array, u: number, last: number): number {
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function sampleRow(weights: Float64Array, n: number, replacement: boolean, out: Int32Array, at: number): void {
  if (replacement) {
    const cumulative = new Float64Array(weights.length);
    let total = 0;
    let last = 0;
    weights.forEach((w, i) => {
      total += w;
      cumulative[i] = total;
      if (w > 0) last = i;
    });
    // Searching up to the last positive weight keeps a u rounded up to `total` off zero-weight tails.
    for (let s = 0; s < n; s++) out[at + s] = searchCumulative(cumulative, nextUniform() * total, last);
    return;
  }
  const remaining = weights.slice();
  for (let s = 0; s < n; s++) {
    let total = 0;
    for (const w of remaining) total += w;
    const u = nextUniform() * total;
    let acc = 0;
    let pick = -1;
    for (let i = 0; i < remaining.length; i++) {
      if (remaining[i] === 0) continue;
      pick = i;
      acc += remaining[i];
      if (acc > u) break;
    }
    out[at + s] = pick;
    remaining[pick] = 0;
  }
}

/**
 * n category indices per row of `probs` (1-D [C] or 2-D [R, C]), drawn in proportion to the
 * (unnormalized, non-negative) weights. Returns int32 of shape [n] or [R, n].
 */
export function multinomial(probs: Tensor, n: number, options: MultinomialOptions = {}): Tensor {
  const replacement = options.replacement ?? false;
  if (probs.ndim !== 1 && probs.ndim !== 2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `multinomial: expected probs of 1 or 2 dims, got shape ${formatShape(probs.shape)}`,
    );
  }
  if (probs.dtype === 'int32') {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      "multinomial: expected float probabilities, got int32; use probs.to('float32')",
    );
  }
  const categories = probs.shape[probs.ndim - 1];
  if (!Number.isInteger(n) || n <= 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `multinomial: cannot sample n = ${n} samples; expected a positive integer`,
    );
  }
  if (!replacement && n > categories) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `multinomial: cannot sample n = ${n} > ${categories} categories without replacement; pass { replacement: true }`,
    );
  }
  const rows = probs.ndim === 1 ? 1 : probs.shape[0];
  const values = probs.data();
  const out = new Int32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const weights = Float64Array.from(values.subarray(r * categories, (r + 1) * categories));
    let total = 0;
    let positive = 0;
    for (const w of weights) {
      if (!(w >= 0) || w === Infinity) {
        throw new NodegradError(
          'ERR_NODEGRAD_ARGUMENT',
          `multinomial: probability tensor contains inf, NaN or an element < 0 (got ${w} in row ${r})`,
        );
      }
      total += w;
      if (w > 0) positive++;
    }
    if (total <= 0) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `multinomial: invalid distribution in row ${r}: the probabilities sum to 0`,
      );
    }
    if (!replacement && positive < n) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `multinomial: row ${r} has ${positive} non-zero categories, too few to draw ${n} without replacement`,
      );
    }
    sampleRow(weights, n, replacement, out, r * n);
  }
  return fromArray(out, probs.ndim === 1 ? [n] : [rows, n]);
}
