/** Creation functions: tensor, zeros, ones, full, rand, randn, arange, eye, and their *Like forms. */
import type { DataArray, DType } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import { fillNormal, fillUniform } from './random.js';
import { checkShape, numelOf, type Shape } from './shape.js';
import { arrayFor, tensorArray } from './storage.js';
import { fromArray, uninitTensor, type NestedArray, type Tensor } from './tensor.js';

/** Options every creation function takes. */
export interface TensorOptions {
  /** Element type; float32 unless given (bool for nested arrays of booleans). */
  dtype?: DType;
  /** Record operations on this tensor for backward(). */
  requiresGrad?: boolean;
}

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

function checkDtype(op: string, dtype: DType): void {
  if (!DTYPES.includes(dtype)) {
    const given: unknown = dtype;
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `${op}: unknown dtype '${String(given)}', expected one of ${DTYPES.join(', ')}`,
    );
  }
}

/** Values stored as `dtype`: bool keeps whether each value is non-zero (NaN counts as true, as in PyTorch). */
function fillArray(dtype: DType, values: ArrayLike<number | boolean>): DataArray {
  const array = arrayFor(dtype, values.length);
  const toBool = dtype === 'bool';
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    array[i] = toBool ? (v !== 0 ? 1 : 0) : v;
  }
  return array;
}

/** PyTorch refuses a value that int32 cannot hold; a fraction is refused too rather than truncated. */
function checkInt32Values(op: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new NodegradError(
        'ERR_NODEGRAD_DTYPE',
        `${op}: value ${v} at index ${i} cannot be converted to int32; expected an integer in [-2147483648, 2147483647]`,
      );
    }
  }
}

function finish(array: DataArray, shape: Shape, options: TensorOptions): Tensor {
  const t = fromArray(array, shape);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

function nestedShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

function flattenInto(op: string, data: NestedArray, shape: Shape, d: number, out: (number | boolean)[]): void {
  if (d === shape.length) {
    if (typeof data !== 'number' && typeof data !== 'boolean') {
      throw new NodegradError('ERR_NODEGRAD_SHAPE', `${op}: nested arrays are ragged; expected numbers at depth ${d}`);
    }
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[d]) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: nested arrays are ragged; expected ${shape[d]} entries at depth ${d} to match shape ${formatShape(shape)}`,
    );
  }
  for (const item of data) flattenInto(op, item, shape, d + 1, out);
}

/**
 * A tensor from a number, nested arrays or a typed array (copied), as torch.tensor. The shape comes
 * from the nesting (a typed array is 1-d unless `options.shape` is given); dtype defaults to float32
 * (bool for nested booleans; a Float64Array or Int32Array keeps its type). int32 values must be integers.
 * @param data - a number, nested arrays of numbers or booleans, or a typed array.
 * @param options - dtype, requiresGrad, and shape (to view the values as that shape).
 * @example
 * ```ts
 * const x = ng.tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const i = ng.tensor([0, 2, 1], { dtype: 'int32' });
 * const y = ng.tensor(new Float32Array(6), { shape: [2, 3] });
 * ```
 */
export function tensor(data: NestedArray | DataArray, options: TensorOptions & { shape?: Shape } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const dtype =
      options.dtype ?? (data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'float32');
    checkDtype('tensor', dtype);
    const shape = options.shape ?? [data.length];
    checkShape('tensor', shape);
    if (dtype === 'int32' && !(data instanceof Int32Array)) checkInt32Values('tensor', data);
    return finish(fillArray(dtype, data), shape, options);
  }
  const shape = nestedShape(data);
  const flat: (number | boolean)[] = [];
  flattenInto('tensor', data, shape, 0, flat);
  const allBoolean = flat.length > 0 && flat.every((v) => typeof v === 'boolean');
  const dtype = options.dtype ?? (allBoolean ? 'bool' : 'float32');
  checkDtype('tensor', dtype);
  if (options.shape) checkShape('tensor', options.shape);
  if (dtype === 'int32') checkInt32Values('tensor', flat.map(Number));
  return finish(fillArray(dtype, flat), options.shape ?? shape, options);
}

/** A new tensor of `shape` filled with `value`, checked and named as `op`. */
function filled(op: string, shape: Shape, value: number, options: TensorOptions): Tensor {
  const dtype = options.dtype ?? 'float32';
  checkDtype(op, dtype);
  checkShape(op, shape);
  if (dtype === 'int32') checkInt32Values(op, [value]);
  const array = tensorArray(dtype, numelOf(shape));
  if (value !== 0) array.fill(dtype === 'bool' ? 1 : value);
  return finish(array, shape, options);
}

/** A tensor of `shape` filled with `value`, as torch.full (float32 unless `options.dtype`). */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  return filled('full', shape, value, options);
}

/**
 * A tensor of `shape` filled with zeros, as torch.zeros (float32 unless `options.dtype`).
 * @example
 * ```ts
 * const w = ng.zeros([3, 4], { requiresGrad: true });
 * const counts = ng.zeros([10], { dtype: 'int32' });
 * ```
 */
export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return filled('zeros', shape, 0, options);
}

/** A tensor of `shape` filled with ones, as torch.ones (float32 unless `options.dtype`). */
export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return filled('ones', shape, 1, options);
}

/** Random samples have no bool form (PyTorch refuses too). */
function checkNotBool(op: string, dtype: DType | undefined): void {
  if (dtype === 'bool') {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `${op}: dtype bool is not supported; compare samples instead, e.g. rand(shape).lt(p)`,
    );
  }
}

/** Uniform samples in [0, 1) from the seeded generator ({@link manualSeed}), as torch.rand. */
export function rand(shape: Shape, options: TensorOptions = {}): Tensor {
  checkNotBool('rand', options.dtype);
  const t = filled('rand', shape, 0, { dtype: options.dtype ?? 'float32' });
  fillUniform(t.storage.data);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * Samples of the standard normal distribution N(0, 1) from the seeded generator ({@link manualSeed}),
 * as torch.randn; float32 unless `options.dtype` (bool is refused).
 * @example
 * ```ts
 * ng.manualSeed(0);
 * const w = ng.randn([784, 128], { requiresGrad: true });
 * ```
 */
export function randn(shape: Shape, options: TensorOptions = {}): Tensor {
  checkNotBool('randn', options.dtype);
  const t = filled('randn', shape, 0, { dtype: options.dtype ?? 'float32' });
  fillNormal(t.storage.data);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Values from start (inclusive) to end (exclusive) by step: `arange(5)`, `arange(1, 2, 0.25)`. */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `arange: start and end must be finite numbers, got ${from} and ${to}`,
    );
  }
  if (step === 0 || !Number.isFinite(step)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `arange: step must be a finite non-zero number, got ${step}`);
  }
  const n = Math.max(0, Math.ceil((to - from) / step));
  const t = filled('arange', [n], 0, { dtype: options.dtype ?? 'float32' });
  const data = t.storage.data;
  for (let i = 0; i < n; i++) data[i] = from + i * step;
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/** An n x m matrix with ones on the diagonal. */
export function eye(n: number, m: number = n, options: TensorOptions = {}): Tensor {
  const t = filled('eye', [n, m], 0, { dtype: options.dtype ?? 'float32' });
  const data = t.storage.data;
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/** `options.dtype`, else the dtype of `like`: the *Like functions copy shape and dtype, never data. */
function likeOptions(like: Tensor, options: TensorOptions): TensorOptions {
  return { dtype: options.dtype ?? like.dtype, requiresGrad: options.requiresGrad };
}

/** Zeros of like's shape and dtype (or `options.dtype`), as torch.zeros_like. */
export function zerosLike(like: Tensor, options: TensorOptions = {}): Tensor {
  return filled('zerosLike', like.shape, 0, likeOptions(like, options));
}

/** Ones of like's shape and dtype (or `options.dtype`), as torch.ones_like. */
export function onesLike(like: Tensor, options: TensorOptions = {}): Tensor {
  return filled('onesLike', like.shape, 1, likeOptions(like, options));
}

/** `value` in like's shape and dtype (or `options.dtype`), as torch.full_like. */
export function fullLike(like: Tensor, value: number, options: TensorOptions = {}): Tensor {
  return filled('fullLike', like.shape, value, likeOptions(like, options));
}

/** A tensor of like's shape whose contents are unspecified (PyTorch's empty_like); fill it before reading. */
export function emptyLike(like: Tensor, options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? like.dtype;
  checkDtype('emptyLike', dtype);
  const t = uninitTensor(like.shape, dtype);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Random samples need a float dtype: an int32 tensor would hold only zeros. */
function floatLike(op: string, like: Tensor, options: TensorOptions): TensorOptions {
  const resolved = likeOptions(like, options);
  if (resolved.dtype === 'int32') {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `${op}: cannot sample floats into int32; pass { dtype: 'float32' } (or use randint for integers)`,
    );
  }
  return resolved;
}

/** Uniform samples in [0, 1) of like's shape and dtype. */
export function randLike(like: Tensor, options: TensorOptions = {}): Tensor {
  return rand(like.shape, floatLike('randLike', like, options));
}

/** Standard normal samples of like's shape and dtype. */
export function randnLike(like: Tensor, options: TensorOptions = {}): Tensor {
  return randn(like.shape, floatLike('randnLike', like, options));
}
