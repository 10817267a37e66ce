/**
 * Gradient clipping and flat parameter vectors, as torch.nn.utils: clipGradNorm_, clipGradValue_,
 * parametersToVector, vectorToParameters. The clipping functions rescale each .grad in place.
 *
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import { getBackend } from '../backend/index.js';
import { UnaryOp } from '../backend/types.js';
import { NodegradError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { cat } from '../ops/join.js';
import { reshape } from '../ops/shape.js';

/** The parameters the functions take: one tensor or any iterable of them (`model.parameters()`). */
export type Parameters = Iterable<Tensor> | Tensor;

function listOf(op: string, params: Parameters): Tensor[] {
  const list = params instanceof Tensor ? [params] : [...params];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: expected tensors, got ${typeof p} at index ${i}`);
    }
  });
  return list;
}

function gradsOf(op: string, params: Parameters): Tensor[] {
  return listOf(op, params).flatMap((p) => (p.grad ? [p.grad] : []));
}

/** The elements of t in any order: a view of its storage when contiguous (no copy), else a copy. */
function valuesOf(t: Tensor): ArrayLike<number> {
  return t.isContiguous() ? t.storage.data.subarray(t.offset, t.offset + t.numel) : t.data();
}

/** Σ v², four partial sums (the loop then pipelines), in float64. */
function sumOfSquares(v: Float32Array | Float64Array): number {
  let [a, b, c, d] = [0, 0, 0, 0];
  const n4 = v.length - (v.length % 4);
  for (let i = 0; i < n4; i += 4) {
    a += v[i] * v[i];
    b += v[i + 1] * v[i + 1];
    c += v[i + 2] * v[i + 2];
    d += v[i + 3] * v[i + 3];
  }
  for (let i = n4; i < v.length; i++) a += v[i] * v[i];
  return a + b + c + d;
}

/** The p-norm of one tensor's elements, accumulated in float64 (max |x| for p = inf). */
function normOf(values: ArrayLike<number>, p: number): number {
  let acc = 0;
  if (p === Infinity) {
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]);
      if (a > acc || Number.isNaN(a)) acc = a;
    }
    return acc;
  }
  if (p === 2 && (values instanceof Float32Array || values instanceof Float64Array))
    return Math.sqrt(sumOfSquares(values));
  for (let i = 0; i < values.length; i++) acc += Math.abs(values[i]) ** p;
  return acc ** (1 / p);
}

/** Options of clipGradNorm_. */
export interface ClipGradNormOptions {
  /** The order of the norm: a positive number, or Infinity / 'inf' for the largest |g| (default 2). */
  normType?: number | 'inf';
  /** Throw when the total norm is NaN or infinite instead of scaling the gradients by it. */
  errorIfNonfinite?: boolean;
}

/**
 * Scales the gradients of `params` so that their combined norm (the norm of the per-tensor norms)
 * is at most `maxNorm`, and returns the norm before clipping. Call it between backward() and
 * step(): `ng.nn.utils.clipGradNorm_(model.parameters(), 1.0)`.
 */
export function clipGradNorm_(params: Parameters, maxNorm: number, options: ClipGradNormOptions = {}): number {
  const p = options.normType === 'inf' ? Infinity : (options.normType ?? 2);
  if (typeof p !== 'number' || !(p > 0)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `clipGradNorm_: normType must be a positive number or 'inf', got ${String(options.normType)}`,
    );
  }
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `clipGradNorm_: maxNorm must be a number, got ${String(maxNorm)}`);
  }
  const grads = gradsOf('clipGradNorm_', params);
  if (grads.length === 0) return 0;
  const total = normOf(
    grads.map((g) => normOf(valuesOf(g), p)),
    p,
  );
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `clipGradNorm_: the total norm of order ${p} of the gradients is ${total}, so they cannot be clipped; ` +
        'look for NaN/inf in the loss, or pass { errorIfNonfinite: false } to scale by it anyway',
    );
  }
  // The 1e-6 keeps the scale finite for all-zero gradients, as in PyTorch.
  const scale = Math.min(maxNorm / (total + 1e-6), 1);
  noGrad(() => {
    for (const g of grads) {
      writeInPlace('clipGradNorm_', g, (values) => {
        if (values instanceof Float32Array || values instanceof Float64Array) {
          getBackend().unary(UnaryOp.Affine, values, values, values.length, scale, 0);
        } else {
          for (let i = 0; i < values.length; i++) values[i] *= scale;
        }
      });
    }
  });
  return total;
}

/** Clamps every gradient of `params` to [-clipValue, clipValue] in place. */
export function clipGradValue_(params: Parameters, clipValue: number): void {
  if (!(clipValue >= 0)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `clipGradValue_: clipValue must be a number >= 0, got ${clipValue}`,
    );
  }
  noGrad(() => {
    for (const g of gradsOf('clipGradValue_', params)) {
      writeInPlace('clipGradValue_', g, (values) => {
        for (let i = 0; i < values.length; i++) values[i] = Math.min(Math.max(values[i], -clipValue), clipValue);
      });
    }
  });
}

/** The parameters flattened and joined into one 1-D tensor (a copy, recorded for autograd). */
export function parametersToVector(params: Parameters): Tensor {
  const list = listOf('parametersToVector', params);
  if (list.length === 0) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'parametersToVector: expected at least one parameter');
  }
  return cat(list.map((t) => reshape(t, [-1])));
}

/** Copies consecutive slices of the 1-D `vec` into the parameters, in order (no gradient recorded). */
export function vectorToParameters(vec: Tensor, params: Parameters): void {
  if (!(vec instanceof Tensor)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `vectorToParameters: expected a Tensor vector, got ${typeof vec}`);
  }
  const list = listOf('vectorToParameters', params);
  const needed = list.reduce((n, t) => n + t.numel, 0);
  if (vec.ndim !== 1 || vec.numel !== needed) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `vectorToParameters: expected a 1-D vector of ${needed} elements (the parameters' total), got shape [${vec.shape.join(', ')}]`,
    );
  }
  const all = vec.data();
  noGrad(() => {
    let offset = 0;
    for (const t of list) {
      const values = all.subarray(offset, offset + t.numel);
      writeInPlace('vectorToParameters', t, (target) => target.set(values));
      offset += t.numel;
    }
  });
}
