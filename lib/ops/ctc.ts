/**
 * Connectionist temporal classification loss (Graves et al., 2006): the forward computes the
 * alpha recursion in log space; the backward adds the beta recursion and turns the alpha-beta
 * occupancies into d loss / d logProbs. Plain TypeScript over float64 work arrays (the inputs may be
 * float32 or float64): the recursion is O(T·S) per sample, cheap next to the network that feeds it.
 */
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { denseArray, denseCopy } from './shape.js';
import { checkReduction, type ReductionOptions } from './loss-utils.js';

/** Options of {@link ctcLoss}. */
export interface CtcLossOptions extends ReductionOptions {
  /** The blank label's class index (default 0). */
  blank?: number;
  /** Infinite losses (no alignment fits in the input) and their gradients become 0 (default false). */
  zeroInfinity?: boolean;
}

type Lengths = Tensor | readonly number[];

/** log(e^a + e^b), exact when both are −∞: one exp and one log1p. */
function logAddExp(a: number, b: number): number {
  if (a < b) [a, b] = [b, a];
  return b === -Infinity ? a : a + Math.log1p(Math.exp(b - a));
}

/** log(e^a + e^b + e^c): two exps, as the largest term's is 1. */
function logSumExp3(a: number, b: number, c: number): number {
  if (c === -Infinity) return logAddExp(a, b);
  if (a >= b && a >= c) return a + Math.log1p(Math.exp(b - a) + Math.exp(c - a));
  if (b >= c) return b + Math.log1p(Math.exp(a - b) + Math.exp(c - b));
  return c + Math.log1p(Math.exp(a - c) + Math.exp(b - c));
}

function integers(op: string, name: string, lengths: Lengths, n: number): Int32Array {
  const values = Array.isArray(lengths) ? lengths : null;
  if (values === null && (lengths as Tensor).dtype !== 'int32') {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `${op}: expected ${name} as int32 or a number array, got ${(lengths as Tensor).dtype}`,
    );
  }
  const out = values ? Int32Array.from(values) : (denseCopy(lengths as Tensor).storage.data as Int32Array);
  const shape = values ? [values.length] : (lengths as Tensor).shape;
  if (shape.length !== 1 || shape[0] !== n || (values && values.some((v) => !Number.isInteger(v)))) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected ${name} of ${n} integers (one per sample), got ${values ? `[${values.join(', ')}]` : formatShape(shape)}`,
    );
  }
  return out;
}

/** The extended label sequence l′ of one sample: blank, l1, blank, l2, ..., blank. */
function extendedLabels(labels: Int32Array, blank: number): Int32Array {
  const out = new Int32Array(2 * labels.length + 1).fill(blank);
  labels.forEach((l, i) => (out[2 * i + 1] = l));
  return out;
}

interface Sample {
  /** Frames used, ≤ T. */
  frames: number;
  /** Extended labels l′ (length 2L + 1). */
  ext: Int32Array;
  /** log α[t, s] for t < frames, row-major [frames, 2L + 1]. */
  alpha: Float64Array;
  /** −log p(labels | input). */
  nll: number;
}

/** The offset of row [t, b, :] in the dense [T, N, C] log-probabilities, for one sample b. */
type RowOf = (t: number) => number;

function forwardSample(lp: Float64Array, row: RowOf, frames: number, ext: Int32Array): Sample {
  const S = ext.length;
  const alpha = new Float64Array(frames * S).fill(-Infinity);
  if (frames === 0) return { frames, ext, alpha, nll: S === 1 ? 0 : Infinity };
  alpha[0] = lp[row(0) + ext[0]];
  if (S > 1) alpha[1] = lp[row(0) + ext[1]];
  for (let t = 1; t < frames; t++) {
    const prev = (t - 1) * S;
    const at = row(t);
    // Only s < 2t + 2 is reachable after t + 1 frames.
    const reachable = Math.min(S, 2 * t + 2);
    alpha[t * S] = alpha[prev] + lp[at + ext[0]];
    for (let s = 1; s < reachable; s++) {
      // A label may follow the label two back unless it repeats it: then a blank must come between.
      const skip = s >= 2 && ext[s] !== ext[s - 2] ? alpha[prev + s - 2] : -Infinity;
      const reach = logSumExp3(alpha[prev + s], alpha[prev + s - 1], skip);
      alpha[t * S + s] = reach === -Infinity ? -Infinity : reach + lp[at + ext[s]];
    }
  }
  const last = (frames - 1) * S;
  const logLikelihood = S > 1 ? logAddExp(alpha[last + S - 1], alpha[last + S - 2]) : alpha[last];
  return { frames, ext, alpha, nll: -logLikelihood };
}

/**
 * Adds scale · d nll / d lp[t, c] = −scale · Σ_{s: l′(s) = c} α[t, s]·β[t, s] / (p·y[t, c]) into grad,
 * β including y at t as α does.
 */
function backwardSample(
  lp: Float64Array,
  row: RowOf,
  sample: Sample,
  classes: number,
  scale: number,
  grad: Float64Array,
): void {
  const { frames, ext, alpha, nll } = sample;
  const S = ext.length;
  if (nll === Infinity) {
    // No alignment: every frame's gradient is NaN, as PyTorch's exp(lp) − exp(−∞ + ∞).
    for (let t = 0; t < frames; t++) grad.fill(NaN, row(t), row(t) + classes);
    return;
  }
  let next = new Float64Array(S).fill(-Infinity);
  let beta = new Float64Array(S);
  const occupancy = new Float64Array(classes);
  for (let t = frames - 1; t >= 0; t--) {
    const at = row(t);
    beta.fill(-Infinity);
    if (t === frames - 1) {
      beta[S - 1] = lp[at + ext[S - 1]];
      if (S > 1) beta[S - 2] = lp[at + ext[S - 2]];
    } else {
      // Only s ≥ S − 2·(frames − t) can still reach the end.
      for (let s = Math.max(0, S - 2 * (frames - t)); s < S; s++) {
        const skip = s + 2 < S && ext[s] !== ext[s + 2] ? next[s + 2] : -Infinity;
        const reach = logSumExp3(next[s], s + 1 < S ? next[s + 1] : -Infinity, skip);
        beta[s] = reach === -Infinity ? -Infinity : reach + lp[at + ext[s]];
      }
    }
    occupancy.fill(-Infinity);
    const first = Math.max(0, S - 2 * (frames - t));
    for (let s = first; s < Math.min(S, 2 * t + 2); s++) {
      occupancy[ext[s]] = logAddExp(occupancy[ext[s]], alpha[t * S + s] + beta[s]);
    }
    for (let c = 0; c < classes; c++) {
      if (occupancy[c] !== -Infinity) grad[at + c] -= scale * Math.exp(occupancy[c] + nll - lp[at + c]);
    }
    [next, beta] = [beta, next];
  }
}

/**
 * The CTC loss, as `torch.nn.functional.ctc_loss`: −log of the total probability of every alignment
 * of each sample's target labels to its input frames (labels in order, repeats collapsed, blanks
 * removed).
 *
 * Shapes: logProbs [T, N, C] float32/float64 log-probabilities (a logSoftmax over C); targets int32
 * [N, S] padded (sample b uses its first targetLengths[b] labels) or 1-D, all samples' labels
 * concatenated (length Σ targetLengths); inputLengths and targetLengths: N integers (int32 tensors or
 * arrays), inputLengths[b] ≤ T. Output: [N] with reduction 'none'; 'sum' adds them; 'mean' (default)
 * averages loss[b] / max(targetLengths[b], 1) over the batch, as PyTorch.
 *
 * Options: blank (default 0), zeroInfinity (default false), reduction. Differentiable in logProbs (not
 * twice). Its gradient is the loss's own derivative with respect to logProbs; PyTorch's adds
 * exp(logProbs) to it, assuming a logSoftmax input, and the two agree after the logSoftmax's backward.
 * @example
 * ```ts
 * const logProbs = ng.randn([50, 16, 20], { requiresGrad: true }).logSoftmax(2);
 * const targets = ng.randint(1, 20, [16, 10], { dtype: 'int32' });
 * const loss = ng.nn.functional.ctcLoss(logProbs, targets, Array(16).fill(50), Array(16).fill(10));
 * ```
 */
export function ctcLoss(
  logProbs: Tensor,
  targets: Tensor,
  inputLengths: Tensor | readonly number[],
  targetLengths: Tensor | readonly number[],
  options: CtcLossOptions = {},
): Tensor {
  const op = 'ctcLoss';
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  if (logProbs.ndim !== 3 || (logProbs.dtype !== 'float32' && logProbs.dtype !== 'float64')) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected float32 or float64 logProbs of shape [T, N, C], got ${logProbs.dtype} ${formatShape(logProbs.shape)}`,
    );
  }
  const [T, N, C] = logProbs.shape;
  const blank = options.blank ?? 0;
  if (!Number.isInteger(blank) || blank < 0 || blank >= C) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: blank must be a class index in [0, ${C}), got ${blank}`);
  }
  const frames = integers(op, 'inputLengths', inputLengths, N);
  const labelCounts = integers(op, 'targetLengths', targetLengths, N);
  for (const [name, values, most] of [
    ['inputLengths', frames, T] as const,
    ['targetLengths', labelCounts, Infinity] as const,
  ]) {
    for (const v of values) {
      if (v < 0 || v > most) {
        throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: ${name} must be in [0, ${most}], got ${v}`);
      }
    }
  }
  const labels = targetsPerSample(targets, labelCounts, C);
  // One Float64Array for both dtypes keeps the hot loops monomorphic (float32 reads cost 1.5x).
  const data = Float64Array.from(denseArray(logProbs));
  const samples: Sample[] = [];
  const losses = uninitTensor([N], logProbs.dtype);
  const out = losses.storage.data;
  for (let b = 0; b < N; b++) {
    const sample = forwardSample(data, (t) => (t * N + b) * C, frames[b], extendedLabels(labels[b], blank));
    samples.push(sample);
    out[b] = options.zeroInfinity && sample.nll === Infinity ? 0 : sample.nll;
  }
  let result = losses;
  if (reduction !== 'none') {
    let total = 0;
    for (let b = 0; b < N; b++) total += reduction === 'mean' ? out[b] / Math.max(labelCounts[b], 1) : out[b];
    result = uninitTensor([], logProbs.dtype);
    result.storage.data[0] = reduction === 'mean' ? total / N : total;
  }
  return record('ctcLoss', result, [logProbs], (g) => {
    const gv = denseArray(g);
    const grad = uninitTensor([T, N, C], logProbs.dtype);
    const gd = new Float64Array(T * N * C);
    samples.forEach((sample, b) => {
      if (options.zeroInfinity && sample.nll === Infinity) return;
      const upstream = reduction === 'none' ? gv[b] : gv[0];
      const scale = reduction === 'mean' ? upstream / Math.max(labelCounts[b], 1) / N : upstream;
      backwardSample(data, (t) => (t * N + b) * C, sample, C, scale, gd);
    });
    grad.storage.data.set(gd);
    return [grad];
  });
}

/** Each sample's labels from padded [N, S] or concatenated 1-D targets, checked against C. */
function targetsPerSample(targets: Tensor, counts: Int32Array, C: number): Int32Array[] {
  const op = 'ctcLoss';
  const N = counts.length;
  const total = counts.reduce((a, b) => a + b, 0);
  const longest = counts.reduce((a, b) => Math.max(a, b), 0);
  const padded = targets.ndim === 2 && targets.shape[0] === N && targets.shape[1] >= longest;
  if (targets.dtype !== 'int32' || !(padded || (targets.ndim === 1 && targets.shape[0] === total))) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected int32 targets of shape [${N}, S] with S ≥ ${longest} (padded) or [${total}] (concatenated), ` +
        `got ${targets.dtype} ${formatShape(targets.shape)}`,
    );
  }
  const values = denseCopy(targets).storage.data as Int32Array;
  const out: Int32Array[] = [];
  let at = 0;
  for (let b = 0; b < N; b++) {
    const start = padded ? b * targets.shape[1] : at;
    const labels = values.subarray(start, start + counts[b]);
    at += counts[b];
    for (const l of labels) {
      if (l < 0 || l >= C) {
        throw new NodegradError(
          'ERR_NODEGRAD_ARGUMENT',
          `${op}: target label ${l} of sample ${b} is out of range for ${C} classes`,
        );
      }
    }
    out.push(labels);
  }
  return out;
}
