/**
 * Element-wise ops. Binary ops broadcast by reading inputs through strides (no expanded copies);
 * their backward sums the gradient back to each input's shape. Unary ops save only what their
 * derivative reads: exp/sigmoid/tanh/relu/sqrt their output, log/abs/clamp/pow their input.
 */
import { getBackend } from '../backend/index.js';
import { BinaryOp, UnaryOp, type DType, type FloatArray } from '../backend/types.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { NodegradError } from '../errors.js';
import { broadcastShapes, broadcastStrides } from '../tensor/shape.js';
import { full } from '../tensor/creation.js';
import { uninitTensor, Tensor } from '../tensor/tensor.js';
import { clampTensors } from './clamp.js';
import { sumToShape } from './reduce.js';
import { denseCopy, expand, to } from './shape.js';

/** A tensor or a plain number (a 0-d tensor of the other operand's dtype). */
export type TensorLike = Tensor | number;

function promote(a: DType, b: DType): DType {
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

/** Both operands as tensors of one dtype; a plain number takes the tensor's dtype (as in PyTorch). */
function operands(op: string, a: TensorLike, b: TensorLike, floatOnly: boolean): [Tensor, Tensor] {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: expected at least one Tensor operand, got two numbers`);
  }
  const dtypeOf = (x: TensorLike): DType => (x instanceof Tensor ? x.dtype : Number.isInteger(x) ? 'int32' : 'float32');
  const tensorDtype = (a instanceof Tensor ? a : (b as Tensor)).dtype;
  let dtype =
    a instanceof Tensor && b instanceof Tensor
      ? promote(a.dtype, b.dtype)
      : tensorDtype === 'int32'
        ? promote('int32', dtypeOf(a instanceof Tensor ? b : a))
        : tensorDtype;
  if (floatOnly && dtype === 'int32') dtype = 'float32';
  const cast = (x: TensorLike): Tensor => (x instanceof Tensor ? to(x, dtype) : full([], x, { dtype }));
  return [cast(a), cast(b)];
}

/** out = a op b with broadcasting, no autograd. */
export function binaryKernel(op: string, kernel: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = uninitTensor(shape, a.dtype);
  getBackend().binary(
    kernel,
    shape,
    { data: a.storage.data, offset: a.offset, strides: broadcastStrides(a.shape, a.strides, shape) },
    { data: b.storage.data, offset: b.offset, strides: broadcastStrides(b.shape, b.strides, shape) },
    out.storage.data,
  );
  return out;
}

/** out = op(x) over a dense float copy of x, no autograd. */
export function unaryKernel(kernel: UnaryOp, x: Tensor, p1 = 0, p2 = 0): Tensor {
  const dense = x.isContiguous() ? x : denseCopy(x);
  const out = uninitTensor(x.shape, x.dtype);
  const n = x.numel;
  const input = (dense.storage.data as FloatArray).subarray(dense.offset, dense.offset + n);
  getBackend().unary(kernel, input, out.storage.data as FloatArray, n, p1, p2);
  return out;
}

function floatInput(x: Tensor): Tensor {
  return x.dtype === 'int32' ? to(x, 'float32') : x;
}

function needs(t: Tensor, grad: () => Tensor): Tensor | null {
  return t.requiresGrad ? grad() : null;
}

/**
 * a + b elementwise with broadcasting, as torch.add. Operands promote (int32 < float32 < float64); a
 * number takes the tensor's dtype, except that a fractional number makes an int32 tensor's result float32.
 */
export function add(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('add', a, b, false);
  return record('add', binaryKernel('add', BinaryOp.Add, x, y), [x, y], (g) => [
    needs(x, () => sumToShape(g, x.shape)),
    needs(y, () => sumToShape(g, y.shape)),
  ]);
}

/** a - b elementwise with broadcasting and the dtype rules of {@link add}, as torch.sub. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('sub', a, b, false);
  return record('sub', binaryKernel('sub', BinaryOp.Sub, x, y), [x, y], (g) => [
    needs(x, () => sumToShape(g, x.shape)),
    needs(y, () => sumToShape(neg(g), y.shape)),
  ]);
}

/** a · b elementwise with broadcasting and the dtype rules of {@link add}, as torch.mul. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('mul', a, b, false);
  return record(
    'mul',
    binaryKernel('mul', BinaryOp.Mul, x, y),
    [x, y],
    (g) => [needs(x, () => sumToShape(mul(g, y), x.shape)), needs(y, () => sumToShape(mul(g, x), y.shape))],
    [x, y],
  );
}

/** a / b elementwise with broadcasting, as torch.div (true division: int32 operands give float32). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('div', a, b, true);
  const out = binaryKernel('div', BinaryOp.Div, x, y);
  // d(x/y)/dy = -out / y, so the quotient is saved instead of x.
  return record(
    'div',
    out,
    [x, y],
    (g) => [
      needs(x, () => sumToShape(div(g, y), x.shape)),
      needs(y, () => sumToShape(neg(div(mul(g, out), y)), y.shape)),
    ],
    [y, out],
  );
}

/**
 * t (a fresh dense tensor) with 0 wherever `where(i)` holds, i indexing t's elements: PyTorch's
 * where(cond, 0, t) in a backward, which a product with a 0/1 mask is not when t holds NaN or inf.
 */
function zeroWhere(t: Tensor, where: (i: number) => boolean): Tensor {
  const data = t.storage.data;
  for (let i = 0; i < t.numel; i++) if (where(i)) data[i] = 0;
  return t;
}

/** x's elements as read at each element of `shape` (x broadcast to it). */
function broadcastValues(x: Tensor, shape: readonly number[]): FloatArray {
  return denseCopy(expand(x, shape)).storage.data as FloatArray;
}

/**
 * x ** exponent; a number exponent uses the scalar kernel and saves only x. As in PyTorch, the
 * gradient is 0 where the exponent is 0 (not 0 · x^-1, NaN at x = 0), and the exponent's gradient
 * is 0 where x = 0 and the exponent >= 0 (not x^y · log 0).
 */
export function pow(a: TensorLike, exponent: TensorLike): Tensor {
  if (a instanceof Tensor && typeof exponent === 'number') {
    const x = floatInput(a);
    return record(
      'pow',
      unaryKernel(UnaryOp.PowScalar, x, exponent),
      [x],
      (g) => [exponent === 0 ? full(x.shape, 0, { dtype: g.dtype }) : mul(g, mul(pow(x, exponent - 1), exponent))],
      [x],
    );
  }
  const [x, y] = operands('pow', a, exponent, true);
  const out = binaryKernel('pow', BinaryOp.Pow, x, y);
  return record(
    'pow',
    out,
    [x, y],
    (g) => {
      const ys = broadcastValues(y, out.shape);
      return [
        needs(x, () =>
          sumToShape(
            zeroWhere(mul(g, mul(y, pow(x, sub(y, 1)))), (i) => ys[i] === 0),
            x.shape,
          ),
        ),
        needs(y, () => {
          const xs = broadcastValues(x, out.shape);
          return sumToShape(
            mul(
              g,
              zeroWhere(mul(out, log(x)), (i) => xs[i] === 0 && ys[i] >= 0),
            ),
            y.shape,
          );
        }),
      ];
    },
    [x, y, out],
  );
}

/** -x elementwise, as torch.neg (int32 input gives float32). */
export function neg(x: Tensor): Tensor {
  const input = floatInput(x);
  return record('neg', unaryKernel(UnaryOp.Neg, input), [input], (g) => [neg(g)]);
}

/** e^x elementwise, as torch.exp (int32 input gives float32). */
export function exp(x: Tensor): Tensor {
  const input = floatInput(x);
  const out = unaryKernel(UnaryOp.Exp, input);
  return record('exp', out, [input], (g) => [mul(g, out)], [out]);
}

/** Natural logarithm elementwise, as torch.log (int32 input gives float32). */
export function log(x: Tensor): Tensor {
  const input = floatInput(x);
  return record('log', unaryKernel(UnaryOp.Log, input), [input], (g) => [div(g, input)], [input]);
}

/** Square root elementwise, as torch.sqrt (int32 input gives float32). */
export function sqrt(x: Tensor): Tensor {
  const input = floatInput(x);
  const out = unaryKernel(UnaryOp.Sqrt, input);
  return record('sqrt', out, [input], (g) => [div(mul(g, 0.5), out)], [out]);
}

/** |x| elementwise, as torch.abs (int32 input gives float32; the gradient is sign(x)). */
export function abs(x: Tensor): Tensor {
  const input = floatInput(x);
  return record('abs', unaryKernel(UnaryOp.Abs, input), [input], (g) => [mul(g, unaryKernel(UnaryOp.Sign, input))], [
    input,
  ]);
}

/** g where relu's output is positive, else 0, as recorded ops on g (the mask is a constant). */
export function reluGrad(g: Tensor, out: Tensor): Tensor {
  return mul(g, unaryKernel(UnaryOp.Sign, out));
}

/** -1, 0 or 1 by each element's sign (0 for ±0 and NaN, as PyTorch 1.13); the gradient is 0. */
export function sign(x: Tensor): Tensor {
  const input = floatInput(x);
  return record('sign', unaryKernel(UnaryOp.Sign, input), [input], (g) => [full(input.shape, 0, { dtype: g.dtype })]);
}

/** max(x, 0) elementwise, as torch.relu (int32 input gives float32). */
export function relu(x: Tensor): Tensor {
  const input = floatInput(x);
  const out = unaryKernel(UnaryOp.Relu, input);
  // Under createGraph (grad recording) the composed form keeps the gradient differentiable.
  return record(
    'relu',
    out,
    [input],
    (g) => [isGradEnabled() ? reluGrad(g, out) : binaryKernel('relu', BinaryOp.ReluBackward, g, out)],
    [out],
  );
}

/** 1 / (1 + e^-x) elementwise, as torch.sigmoid (int32 input gives float32). */
export function sigmoid(x: Tensor): Tensor {
  const input = floatInput(x);
  const out = unaryKernel(UnaryOp.Sigmoid, input);
  return record(
    'sigmoid',
    out,
    [input],
    (g) => [
      isGradEnabled() ? mul(g, mul(out, sub(1, out))) : binaryKernel('sigmoid', BinaryOp.SigmoidBackward, g, out),
    ],
    [out],
  );
}

/** Hyperbolic tangent elementwise, as torch.tanh (int32 input gives float32). */
export function tanh(x: Tensor): Tensor {
  const input = floatInput(x);
  const out = unaryKernel(UnaryOp.Tanh, input);
  return record(
    'tanh',
    out,
    [input],
    (g) => [isGradEnabled() ? mul(g, sub(1, mul(out, out))) : binaryKernel('tanh', BinaryOp.TanhBackward, g, out)],
    [out],
  );
}

/** Limits values to [min, max]; either bound may be omitted or a tensor (broadcast). The gradient is 0 outside. */
export function clamp(x: Tensor, min?: TensorLike | null, max?: TensorLike | null): Tensor {
  if (min instanceof Tensor || max instanceof Tensor) return clampTensors(x, min, max);
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (min == null && max == null) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'clamp: at least one of min and max must be given');
  }
  if (lo > hi) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `clamp: min ${lo} is greater than max ${hi}`);
  }
  const input = floatInput(x);
  return record(
    'clamp',
    unaryKernel(UnaryOp.Clamp, input, lo, hi),
    [input],
    (g) => [mul(g, unaryKernel(UnaryOp.ClampMask, input, lo, hi))],
    [input],
  );
}
