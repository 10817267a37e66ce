/**
 * Table-driven unary element-wise ops. One row per op gives its reference math (forward and the
 * input gradient, which the reference backend runs), what its backward saves, and how options
 * become the kernel's two parameters; the native kernels come from the same row in
 * native/unary_ops.h (same order). `ng.<op>`, `F.<op>` and `tensor.<op>()` are derived from the
 * table, and test/ops/unary.test.ts runs gradcheck, parity and PyTorch goldens for every row.
 */
import { getBackend } from '../backend/index.js';
import { registerReferenceUnary } from '../backend/reference.js';
import { UnaryOp, type FloatArray } from '../backend/types.js';
import { record } from '../autograd/node.js';
import { NodegradError } from '../errors.js';
import { full } from '../tensor/creation.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { unaryKernel } from './elementwise.js';
import { contiguous, to } from './shape.js';
import * as special from './unary-math.js';

interface UnaryRow<O> {
  forward(v: number, p1: number, p2: number): number;
  /** The input gradient from the upstream gradient g and the saved value s. */
  backward(g: number, s: number, p1: number, p2: number): number;
  /** What backward reads; 'nothing' means the gradient is 0 (as PyTorch's for floor, sign, ...). */
  saves: 'input' | 'output' | 'nothing';
  /** The kernel's parameters from the op's options. */
  params?: (options: O) => [number, number];
  /** Where test inputs are drawn from (default [-3, 3]). */
  domain?: readonly [number, number];
}

/** Declares a row; O is its options type (undefined: the op takes none). */
const row = <O = undefined>(r: UnaryRow<O>): UnaryRow<O> => r;

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** 'tanh' uses PyTorch's tanh approximation (default 'none': the exact erf form). */
  approximate?: 'none' | 'tanh';
}

const SQRT1_2PI = 0.3989422804014327;

function geluTanh(x: number): [y: number, dy: number] {
  const k = Math.sqrt(2 / Math.PI),
    inner = k * (x + 0.044715 * x * x * x),
    t = Math.tanh(inner);
  return [0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)];
}

function geluParams(o: GeluOptions): [number, number] {
  const approximate: unknown = o.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`,
    );
  }
  return [approximate === 'tanh' ? 1 : 0, 0];
}

/** Options of {@link softplus}. */
export interface SoftplusOptions {
  /** Default 1. */
  beta?: number;
  /** Above beta·x > threshold the op is the identity (default 20). */
  threshold?: number;
}

/** Options of {@link elu}. */
export interface EluOptions {
  /** Default 1. */
  alpha?: number;
}

/** Options of {@link leakyRelu}. */
export interface LeakyReluOptions {
  /** Default 0.01. */
  negativeSlope?: number;
}

/** Options of {@link hardtanh}; minVal must not exceed maxVal. */
export interface HardtanhOptions {
  /** Lower bound (default -1). */
  minVal?: number;
  /** Upper bound (default 1). */
  maxVal?: number;
}

function hardtanhParams(o: HardtanhOptions): [number, number] {
  const { minVal = -1, maxVal = 1 } = o;
  if (!(minVal <= maxVal)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `hardtanh: minVal ${minVal} must not be greater than maxVal ${maxVal}`,
    );
  }
  return [minVal, maxVal];
}

const { logistic, SELU_SCALE, SELU_ALPHA } = special;

/**
 * The table; the key order is the op order of native/unary_ops.h.
 * @internal
 */
export const unaryOpTable = {
  square: row({ forward: (x) => x * x, backward: (g, x) => g * 2 * x, saves: 'input' }),
  gelu: row<GeluOptions>({
    forward: (x, a) => (a === 0 ? 0.5 * x * (1 + special.erf(x * Math.SQRT1_2)) : geluTanh(x)[0]),
    backward: (g, x, a) =>
      g *
      (a === 0 ? 0.5 * (1 + special.erf(x * Math.SQRT1_2)) + x * SQRT1_2PI * Math.exp(-0.5 * x * x) : geluTanh(x)[1]),
    saves: 'input',
    params: geluParams,
  }),
  sin: row({ forward: Math.sin, backward: (g, x) => g * Math.cos(x), saves: 'input' }),
  cos: row({ forward: Math.cos, backward: (g, x) => -g * Math.sin(x), saves: 'input' }),
  tan: row({ forward: Math.tan, backward: (g, y) => g * (1 + y * y), saves: 'output', domain: [-1.4, 1.4] }),
  asin: row({
    forward: Math.asin,
    backward: (g, x) => g / Math.sqrt(1 - x * x),
    saves: 'input',
    domain: [-0.95, 0.95],
  }),
  acos: row({
    forward: Math.acos,
    backward: (g, x) => -g / Math.sqrt(1 - x * x),
    saves: 'input',
    domain: [-0.95, 0.95],
  }),
  atan: row({ forward: Math.atan, backward: (g, x) => g / (1 + x * x), saves: 'input' }),
  sinh: row({ forward: Math.sinh, backward: (g, x) => g * Math.cosh(x), saves: 'input' }),
  cosh: row({ forward: Math.cosh, backward: (g, x) => g * Math.sinh(x), saves: 'input' }),
  erf: row({
    forward: special.erf,
    backward: (g, x) => g * (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x),
    saves: 'input',
  }),
  erfc: row({
    forward: special.erfc,
    backward: (g, x) => -g * (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x),
    saves: 'input',
  }),
  erfinv: row({
    forward: special.erfinv,
    backward: (g, y) => g * (Math.sqrt(Math.PI) / 2) * Math.exp(y * y),
    saves: 'output',
    domain: [-0.95, 0.95],
  }),
  expm1: row({ forward: Math.expm1, backward: (g, y) => g * (y + 1), saves: 'output' }),
  log1p: row({ forward: Math.log1p, backward: (g, x) => g / (x + 1), saves: 'input', domain: [-0.9, 3] }),
  log2: row({ forward: Math.log2, backward: (g, x) => g / (x * Math.LN2), saves: 'input', domain: [0.1, 4] }),
  log10: row({ forward: Math.log10, backward: (g, x) => g / (x * Math.LN10), saves: 'input', domain: [0.1, 4] }),
  floor: row({ forward: Math.floor, backward: () => 0, saves: 'nothing' }),
  ceil: row({ forward: Math.ceil, backward: () => 0, saves: 'nothing' }),
  round: row({ forward: special.roundHalfEven, backward: () => 0, saves: 'nothing' }),
  trunc: row({ forward: Math.trunc, backward: () => 0, saves: 'nothing' }),
  frac: row({ forward: (x) => x - Math.trunc(x), backward: (g) => g, saves: 'input' }),
  reciprocal: row({ forward: (x) => 1 / x, backward: (g, y) => -g * y * y, saves: 'output', domain: [0.2, 3] }),
  rsqrt: row({
    forward: (x) => 1 / Math.sqrt(x),
    backward: (g, y) => -0.5 * g * y * y * y,
    saves: 'output',
    domain: [0.1, 4],
  }),
  silu: row({
    forward: (x) => x * logistic(x),
    backward: (g, x) => g * logistic(x) * (1 + x * (1 - logistic(x))),
    saves: 'input',
  }),
  mish: row({
    forward: (x) => x * Math.tanh(Math.log1p(Math.exp(x))),
    backward: (g, x) => g * special.mishDerivative(x),
    saves: 'input',
  }),
  softplus: row<SoftplusOptions>({
    forward: (x, beta, threshold) => (x * beta > threshold ? x : Math.log1p(Math.exp(x * beta)) / beta),
    backward: (g, x, beta, threshold) =>
      x * beta > threshold ? g : (g * Math.exp(x * beta)) / (Math.exp(x * beta) + 1),
    saves: 'input',
    params: (o) => [o.beta ?? 1, o.threshold ?? 20],
  }),
  elu: row<EluOptions>({
    forward: (x, alpha) => (x <= 0 ? alpha * Math.expm1(x) : x),
    backward: (g, x, alpha) => (x <= 0 ? g * alpha * Math.exp(x) : g),
    saves: 'input',
    params: (o) => [o.alpha ?? 1, 0],
  }),
  selu: row({
    forward: (x) => SELU_SCALE * (x <= 0 ? SELU_ALPHA * Math.expm1(x) : x),
    backward: (g, x) => (x <= 0 ? g * SELU_SCALE * SELU_ALPHA * Math.exp(x) : g * SELU_SCALE),
    saves: 'input',
  }),
  leakyRelu: row<LeakyReluOptions>({
    forward: (x, slope) => (x > 0 ? x : x * slope),
    backward: (g, x, slope) => (x > 0 ? g : g * slope),
    saves: 'input',
    params: (o) => [o.negativeSlope ?? 0.01, 0],
  }),
  hardtanh: row<HardtanhOptions>({
    forward: (x, lo, hi) => (x < lo ? lo : x > hi ? hi : x),
    backward: (g, x, lo, hi) => (x <= lo || x >= hi ? 0 : g),
    saves: 'input',
    params: hardtanhParams,
  }),
  hardswish: row({
    forward: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
    backward: (g, x) => (x < -3 ? 0 : x <= 3 ? g * (x / 3 + 0.5) : g),
    saves: 'input',
    domain: [-5, 5],
  }),
  logSigmoid: row({
    forward: special.logSigmoid,
    backward: (g, x) => g * special.logSigmoidDerivative(x),
    saves: 'input',
  }),
  softsign: row({
    forward: (x) => x / (1 + Math.abs(x)),
    backward: (g, x) => g / ((1 + Math.abs(x)) * (1 + Math.abs(x))),
    saves: 'input',
  }),
};

/** The name of a table-driven unary op: `'sin'`, `'gelu'`, ... */
export type UnaryOpName = keyof typeof unaryOpTable;
type OptionsOf<K extends UnaryOpName> = (typeof unaryOpTable)[K] extends UnaryRow<infer O> ? O : never;
/**
 * `ng.<op>(x, options?)` for each row (no options argument for rows without options).
 * @internal
 */
export type UnaryOpFunctions = {
  [K in UnaryOpName]: [OptionsOf<K>] extends [undefined]
    ? (x: Tensor) => Tensor
    : (x: Tensor, options?: OptionsOf<K>) => Tensor;
};
/**
 * The op id of each row, shared with native/kernels.h.
 * @internal
 */
export const unaryOpIds = Object.fromEntries(
  Object.keys(unaryOpTable).map((name, i) => [name, UnaryOp.FirstTableOp + i]),
) as Record<UnaryOpName, UnaryOp>;

/** out = the input gradient of op `id` from the saved tensor and the upstream gradient, no autograd. */
function unaryBackwardKernel(id: UnaryOp, saved: Tensor, g: Tensor, p1: number, p2: number): Tensor {
  const grad = contiguous(g.dtype === saved.dtype ? g : to(g, saved.dtype));
  const out = uninitTensor(saved.shape, saved.dtype);
  const n = saved.numel;
  const view = (t: Tensor) => (t.storage.data as FloatArray).subarray(t.offset, t.offset + n);
  getBackend().unaryBackward(id, view(saved), view(grad), out.storage.data as FloatArray, n, p1, p2);
  return out;
}

function buildOp(name: UnaryOpName, id: UnaryOp, r: UnaryRow<never>) {
  registerReferenceUnary(id, r);
  return (x: Tensor, options?: unknown): Tensor => {
    const [p1, p2] = r.params ? r.params((options ?? {}) as never) : [0, 0];
    const input = contiguous(x.dtype === 'int32' ? to(x, 'float32') : x);
    const out = unaryKernel(id, input, p1, p2);
    if (r.saves === 'nothing') return record(name, out, [input], (g) => [full(input.shape, 0, { dtype: g.dtype })]);
    const saved = r.saves === 'input' ? input : out;
    return record(name, out, [input], (g) => [unaryBackwardKernel(id, saved, g, p1, p2)], [saved]);
  };
}

/**
 * Every row's op, by name.
 * @internal
 */
export const unaryOps = Object.fromEntries(
  (Object.entries(unaryOpTable) as [UnaryOpName, UnaryRow<never>][]).map(([name, r]) => [
    name,
    buildOp(name, unaryOpIds[name], r),
  ]),
) as unknown as UnaryOpFunctions;

// The ops as `ng.<op>`; int32 inputs are computed in float32.
export const {
  /** Elementwise square x², as torch.square. */
  square,
  /** Gaussian error linear unit x·Φ(x) (`approximate: 'tanh'` for the tanh form), as torch.nn.functional.gelu. */
  gelu,
  /** Elementwise sine, as torch.sin. */
  sin,
  /** Elementwise cosine, as torch.cos. */
  cos,
  /** Elementwise tangent, as torch.tan. */
  tan,
  /** Elementwise arcsine, as torch.asin. */
  asin,
  /** Elementwise arccosine, as torch.acos. */
  acos,
  /** Elementwise arctangent, as torch.atan. */
  atan,
  /** Elementwise hyperbolic sine, as torch.sinh. */
  sinh,
  /** Elementwise hyperbolic cosine, as torch.cosh. */
  cosh,
  /** Elementwise error function, as torch.erf. */
  erf,
  /** Elementwise complementary error function 1 - erf(x), as torch.erfc. */
  erfc,
  /** Elementwise inverse error function, as torch.erfinv. */
  erfinv,
  /** Elementwise exp(x) - 1, accurate near 0, as torch.expm1. */
  expm1,
  /** Elementwise log(1 + x), accurate near 0, as torch.log1p. */
  log1p,
  /** Elementwise base-2 logarithm, as torch.log2. */
  log2,
  /** Elementwise base-10 logarithm, as torch.log10. */
  log10,
  /** Elementwise floor (gradient 0), as torch.floor. */
  floor,
  /** Elementwise ceiling (gradient 0), as torch.ceil. */
  ceil,
  /** Rounds half to even (gradient 0), as torch.round. */
  round,
  /** Rounds toward zero (gradient 0), as torch.trunc. */
  trunc,
  /** Fractional part x - trunc(x), as torch.frac. */
  frac,
  /** Elementwise 1 / x, as torch.reciprocal. */
  reciprocal,
  /** Elementwise 1 / sqrt(x), as torch.rsqrt. */
  rsqrt,
  /** SiLU (swish) x·sigmoid(x), as torch.nn.functional.silu. */
  silu,
  /** Mish x·tanh(softplus(x)), as torch.nn.functional.mish. */
  mish,
  /** log(1 + exp(beta·x)) / beta, the identity where beta·x > threshold, as torch.nn.functional.softplus. */
  softplus,
  /** ELU: x for x > 0, else alpha·(exp(x) - 1), as torch.nn.functional.elu. */
  elu,
  /** SELU: scale·elu(x, alpha) with the fixed self-normalizing constants, as torch.nn.functional.selu. */
  selu,
  /** x for x > 0, else negativeSlope·x, as torch.nn.functional.leaky_relu. */
  leakyRelu,
  /** Clamps to [minVal, maxVal], as torch.nn.functional.hardtanh. */
  hardtanh,
  /** x·relu6(x + 3) / 6, as torch.nn.functional.hardswish. */
  hardswish,
  /** log(sigmoid(x)), computed stably, as torch.nn.functional.logsigmoid. */
  logSigmoid,
  /** x / (1 + |x|), as torch.nn.functional.softsign. */
  softsign,
} = unaryOps;
