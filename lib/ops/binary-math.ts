/**
 * Broadcasting binary math: minimum, maximum, lerp, hypot, atan2, fmod, remainder. Forwards are
 * loops over the broadcast dense values (the unary kernels they would compose from, trunc, floor
 * and atan, are not ops here); gradients compose mul, div and sumToShape.
 */
import { record } from '../autograd/node.js';
import type { DType } from '../backend/types.js';
import { NodegradError } from '../errors.js';
import { assertReadable } from '../tensor/deferral.js';
import { broadcastShapes } from '../tensor/shape.js';
import { full } from '../tensor/creation.js';
import { uninitTensor, fromArray, Tensor } from '../tensor/tensor.js';
import { add, div, mul, neg, sub, type TensorLike } from './elementwise.js';
import { sumToShape } from './reduce.js';
import { denseCopy, detach, expand, to } from './shape.js';

function promote(values: TensorLike[]): DType {
  const tensors = values.filter((v): v is Tensor => v instanceof Tensor);
  const tensorTypes = tensors.map((t) => t.dtype);
  if (tensorTypes.includes('float64')) return 'float64';
  if (tensorTypes.includes('float32')) return 'float32';
  // All tensors are int32: a fractional number makes the result float32, as in PyTorch.
  return values.some((v) => typeof v === 'number' && !Number.isInteger(v)) ? 'float32' : 'int32';
}

interface Pair {
  a: Tensor;
  b: Tensor;
  shape: number[];
  /** a's and b's values at each element of the broadcast shape. */
  as: ArrayLike<number>;
  bs: ArrayLike<number>;
}

/** Both operands as tensors of one dtype (float when floatOnly), with their broadcast values. */
function pair(op: string, x: TensorLike, y: TensorLike, floatOnly: boolean): Pair {
  if (!(x instanceof Tensor) && !(y instanceof Tensor)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: expected at least one Tensor operand, got two numbers`);
  }
  let dtype = promote([x, y]);
  if (floatOnly && dtype === 'int32') dtype = 'float32';
  const cast = (v: TensorLike): Tensor => (v instanceof Tensor ? to(v, dtype) : full([], v, { dtype }));
  const a = cast(x);
  const b = cast(y);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const at = (t: Tensor): ArrayLike<number> => {
    const values = denseCopy(expand(detach(t), shape)).storage.data;
    assertReadable(`${op} (computed in TypeScript)`, values);
    return values;
  };
  return { a, b, shape, as: at(a), bs: at(b) };
}

/** A tensor of `shape` whose element i is f(i). */
function computed(shape: number[], dtype: DType, f: (i: number) => number): Tensor {
  const out = uninitTensor(shape, dtype);
  const data = out.storage.data;
  for (let i = 0; i < out.numel; i++) data[i] = f(i);
  return out;
}

function gradFor(t: Tensor, grad: () => Tensor): Tensor | null {
  return t.requiresGrad ? sumToShape(grad(), t.shape) : null;
}

/**
 * Element-wise max (or min) of a and b; a NaN in either gives NaN. The gradient goes to the
 * larger (smaller) side and is halved between both on ties, as PyTorch's.
 */
function extremum(op: 'maximum' | 'minimum', x: TensorLike, y: TensorLike): Tensor {
  const { a, b, shape, as, bs } = pair(op, x, y, false);
  const pick = op === 'maximum' ? Math.max : Math.min;
  const out = computed(shape, a.dtype, (i) => pick(as[i], bs[i]));
  if (a.dtype === 'int32') return out;
  const aLoses = (i: number): boolean => (op === 'maximum' ? as[i] < bs[i] : as[i] > bs[i]);
  const bLoses = (i: number): boolean => (op === 'maximum' ? as[i] > bs[i] : as[i] < bs[i]);
  return record(op, out, [a, b], (g) => {
    // 1/2 on ties, 0 on the losing side, else 1 (both sides get all of it where either is NaN).
    const side = (loses: (i: number) => boolean): Tensor =>
      computed(shape, g.dtype, (i) => (as[i] === bs[i] ? 0.5 : loses(i) ? 0 : 1));
    return [gradFor(a, () => mul(g, side(aLoses))), gradFor(b, () => mul(g, side(bLoses)))];
  });
}

/** Elementwise max of a and b with broadcasting, as torch.maximum; NaN propagates, ties split the gradient. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return extremum('maximum', a, b);
}

/** Elementwise min of a and b with broadcasting, as torch.minimum; NaN propagates, ties split the gradient. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return extremum('minimum', a, b);
}

/** start + weight * (end - start), broadcasting all three; weight may be a number. */
export function lerp(start: Tensor, end: TensorLike, weight: TensorLike): Tensor {
  if (!(start instanceof Tensor)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `lerp: expected a Tensor as start, got ${typeof start}`);
  }
  const promoted = promote([start, end, weight]);
  const dtype = promoted === 'int32' ? 'float32' : promoted;
  const s = to(start, dtype);
  return add(
    s,
    mul(weight instanceof Tensor ? to(weight, dtype) : weight, sub(end instanceof Tensor ? to(end, dtype) : end, s)),
  );
}

/** sqrt(a^2 + b^2) without overflow or underflow on the way; the gradient is (a, b) / out. */
export function hypot(x: TensorLike, y: TensorLike): Tensor {
  const { a, b, shape, as, bs } = pair('hypot', x, y, true);
  const out = computed(shape, a.dtype, (i) => Math.hypot(as[i], bs[i]));
  return record(
    'hypot',
    out,
    [a, b],
    (g) => [gradFor(a, () => mul(g, div(a, out))), gradFor(b, () => mul(g, div(b, out)))],
    [a, b, out],
  );
}

/** The angle of the point (x, y) = (other, input), in (-pi, pi]: atan2(input, other) as PyTorch. */
export function atan2(input: TensorLike, other: TensorLike): Tensor {
  const { a: y, b: x, shape, as: ys, bs: xs } = pair('atan2', input, other, true);
  const out = computed(shape, y.dtype, (i) => Math.atan2(ys[i], xs[i]));
  return record(
    'atan2',
    out,
    [y, x],
    (g) => {
      const scaled = div(g, add(mul(x, x), mul(y, y)));
      return [gradFor(y, () => mul(scaled, x)), gradFor(x, () => neg(mul(scaled, y)))];
    },
    [y, x],
  );
}

function checkDivisor(op: string, b: Tensor, bs: ArrayLike<number>): void {
  if (b.dtype !== 'int32') return;
  for (let i = 0; i < bs.length; i++) {
    if (bs[i] === 0)
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: integer division by zero (divisor element ${i} is 0)`);
  }
}

/**
 * a / b rounded toward -inf, as PyTorch's div(rounding_mode='floor'): from the exact fmod, so
 * that a = q * b + remainder holds without the error of floor(a / b).
 */
function floorDivide(a: number, b: number): number {
  if (b === 0) return a / b;
  const mod = a % b;
  let q = (a - mod) / b;
  if (mod !== 0 && b < 0 !== mod < 0) q -= 1;
  if (q === 0) return Math.sign(a / b) * 0;
  const floor = Math.floor(q);
  return q - floor > 0.5 ? floor + 1 : floor;
}

/**
 * a mod b with the quotient q of the matching rounding saved for the gradient: d/da = 1 and
 * d/db = -q. fmod rounds toward zero (the sign of a), remainder toward -inf (the sign of b).
 */
function modulo(op: 'fmod' | 'remainder', x: TensorLike, y: TensorLike): Tensor {
  const { a, b, shape, as, bs } = pair(op, x, y, false);
  checkDivisor(op, b, bs);
  const out = computed(shape, a.dtype, (i) => {
    const mod = as[i] % bs[i];
    return op === 'remainder' && mod !== 0 && bs[i] < 0 !== mod < 0 ? mod + bs[i] : mod;
  });
  if (a.dtype === 'int32') return out;
  return record(op, out, [a, b], (g) => {
    const quotient = fromArray(
      Float64Array.from({ length: out.numel }, (_, i) =>
        op === 'fmod' ? Math.trunc(as[i] / bs[i]) : floorDivide(as[i], bs[i]),
      ),
      shape,
    );
    return [gradFor(a, () => g), gradFor(b, () => neg(mul(g, to(quotient, g.dtype))))];
  });
}

/** a mod b with the sign of a (C's fmod), as torch.fmod; int32 division by zero throws. */
export function fmod(a: TensorLike, b: TensorLike): Tensor {
  return modulo('fmod', a, b);
}

/** a mod b with the sign of b (Python's %), as torch.remainder; int32 division by zero throws. */
export function remainder(a: TensorLike, b: TensorLike): Tensor {
  return modulo('remainder', a, b);
}
