/** The contract every backend implements: the native CPU addon and the pure TypeScript reference. */

/** `bool` is one byte per element (0 or 1) in a Uint8Array. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';
export type FloatArray = Float32Array | Float64Array;
export type DataArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/**
 * Unary element-wise ops; the numeric values are shared with native/kernels.h. The ops of the
 * table in lib/ops/unary.ts (native/unary_ops.h) follow Affine, numbered from FirstTableOp in
 * table order.
 */
export enum UnaryOp {
  Neg = 0,
  Exp,
  Log,
  Sqrt,
  Abs,
  Sign,
  Relu,
  Sigmoid,
  Tanh,
  Clamp,
  ClampMask,
  PowScalar,
  Affine,
  FirstTableOp,
}

/** Binary element-wise ops; the *Backward ones take (upstream gradient, forward output). */
export enum BinaryOp {
  Add = 0,
  Sub,
  Mul,
  Div,
  Pow,
  Maximum,
  Minimum,
  ReluBackward,
  SigmoidBackward,
  TanhBackward,
}

export enum ReduceOp {
  Sum = 0,
  Max,
  Min,
  LogSumExp,
}

/** A strided view of a buffer, as kernels read it. */
export interface StridedView<A extends DataArray = DataArray> {
  data: A;
  offset: number;
  strides: readonly number[];
}

/** Row-major GEMM parameters: C = alpha * op(A) op(B) + beta * C, `batch` times. */
export interface GemmParams {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  aOffset: number;
  lda: number;
  bOffset: number;
  ldb: number;
  cOffset: number;
  ldc: number;
  batch: number;
  strideA: number;
  strideB: number;
  strideC: number;
}

/** A sliding window over a plane of inH x inW: kernel, stride, padding and dilation per axis. */
export interface Window2dParams {
  inH: number;
  inW: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
}

/** A 2-D convolution's geometry (NCHW input, [outC, inC / groups, kH, kW] weight). */
export interface Conv2dParams extends Window2dParams {
  batch: number;
  inChannels: number;
  outChannels: number;
  groups: number;
}

/** A 2-D pooling's geometry over `planes` = batch * channels planes of inH x inW. */
export interface Pool2dParams extends Window2dParams {
  planes: number;
  ceilMode: boolean;
  countIncludePad: boolean;
  /** 0 = divide by the window size. */
  divisorOverride: number;
}

/** Output length of a convolution along one axis (PyTorch's formula). */
export function convOutputSize(input: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((input + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Output length of a pooling along one axis, with ceil mode's rule that no window starts in the right padding. */
export function poolOutputSize(
  input: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation: number,
  ceilMode: boolean,
): number {
  const span = input + 2 * pad - dilation * (kernel - 1) - 1;
  let out = Math.floor((span + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= input + pad) out--;
  return out;
}

/** An adaptive average pooling's geometry over `planes` = batch * channels planes. */
export interface AdaptivePool2dParams {
  planes: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

export interface CrossEntropyParams {
  n: number;
  classes: number;
  /** Rows whose target equals this get loss 0 and gradient 0. */
  ignoreIndex: number;
  labelSmoothing: number;
}

export interface SgdParams {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decay the weights directly instead of adding weightDecay·w to the gradient. */
  decoupled: boolean;
  maximize: boolean;
}

/**
 * The kernels every backend provides. The native addon exports exactly these functions with these
 * arguments (native/binding*.cc reads the parameter objects by field name).
 */
export interface Backend {
  readonly name: string;
  /** out[0..n) = op(x[0..n)); p1/p2 parameterize Clamp, ClampMask, PowScalar, Affine. */
  unary(op: UnaryOp, x: FloatArray, out: FloatArray, n: number, p1: number, p2: number): void;
  /** out[0..n) = the input gradient of table op `op` from the saved input or output and grad. */
  unaryBackward(
    op: UnaryOp,
    saved: FloatArray,
    grad: FloatArray,
    out: FloatArray,
    n: number,
    p1: number,
    p2: number,
  ): void;
  /** out (contiguous, `shape`) = a op b, a and b read through strides (0 = broadcast). */
  binary(op: BinaryOp, shape: readonly number[], a: StridedView, b: StridedView, out: DataArray): void;
  /** Copies the strided view src into the strided view dst, both of `shape`. */
  copyStrided(shape: readonly number[], src: StridedView, dst: StridedView): void;
  /**
   * Reduces the middle axis of contiguous [outer, n, inner]; indices only for Max/Min, which also
   * take an Int32Array x (values then Int32Array too, compared exactly).
   */
  reduce(
    op: ReduceOp,
    x: DataArray,
    outer: number,
    n: number,
    inner: number,
    values: DataArray | null,
    indices: Int32Array | null,
  ): void;
  /** out[o, j, i] = src[o, index[j], i]. */
  indexSelect(
    src: DataArray,
    outer: number,
    n: number,
    inner: number,
    index: Int32Array,
    k: number,
    out: DataArray,
  ): void;
  /** out[o, index[j], i] += src[o, j, i]. */
  indexAdd(
    src: FloatArray,
    outer: number,
    k: number,
    inner: number,
    index: Int32Array,
    n: number,
    out: FloatArray,
  ): void;
  gemm(params: GemmParams, a: FloatArray, b: FloatArray, c: FloatArray): void;
  /** out = conv(input, weight) + bias, optionally followed by ReLU in the same pass. */
  conv2dForward(
    p: Conv2dParams,
    input: FloatArray,
    weight: FloatArray,
    bias: FloatArray | null,
    out: FloatArray,
    relu: boolean,
  ): void;
  /** gradInput (overwritten) from gradOut and weight. */
  conv2dBackwardInput(p: Conv2dParams, gradOut: FloatArray, weight: FloatArray, gradInput: FloatArray): void;
  /** gradWeight and gradBias (overwritten) summed over the batch. */
  conv2dBackwardWeight(
    p: Conv2dParams,
    input: FloatArray,
    gradOut: FloatArray,
    gradWeight: FloatArray,
    gradBias: FloatArray | null,
  ): void;
  /** indices receive each window's argmax as h * inW + w within its plane. */
  maxPool2dForward(p: Pool2dParams, input: FloatArray, out: FloatArray, indices: Int32Array): void;
  maxPool2dBackward(p: Pool2dParams, gradOut: FloatArray, indices: Int32Array, gradInput: FloatArray): void;
  avgPool2dForward(p: Pool2dParams, input: FloatArray, out: FloatArray): void;
  avgPool2dBackward(p: Pool2dParams, gradOut: FloatArray, gradInput: FloatArray): void;
  adaptiveAvgPool2dForward(p: AdaptivePool2dParams, input: FloatArray, out: FloatArray): void;
  adaptiveAvgPool2dBackward(p: AdaptivePool2dParams, gradOut: FloatArray, gradInput: FloatArray): void;
  /** Softmax (or log-softmax) over the middle axis of [outer, n, inner]. */
  softmax(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray, log: boolean): void;
  softmaxBackward(
    y: FloatArray,
    g: FloatArray,
    outer: number,
    n: number,
    inner: number,
    gx: FloatArray,
    log: boolean,
  ): void;
  /** Per-row cross-entropy from logits and, when grad is given, d loss_i / d logits_i. */
  crossEntropy(
    p: CrossEntropyParams,
    logits: FloatArray,
    target: Int32Array,
    weight: FloatArray | null,
    loss: FloatArray,
    grad: FloatArray | null,
  ): void;
  /** One SGD update of all of param in place (PyTorch's rule); momentumBuffer null when momentum is 0. */
  sgdStep(
    param: FloatArray,
    grad: FloatArray,
    momentumBuffer: FloatArray | null,
    p: SgdParams,
    firstStep: boolean,
  ): void;
  /** One Adam/AdamW update of all of param in place; maxExpAvgSq non-null selects AMSGrad; step counts from 1. */
  adamStep(
    param: FloatArray,
    grad: FloatArray,
    expAvg: FloatArray,
    expAvgSq: FloatArray,
    maxExpAvgSq: FloatArray | null,
    p: AdamParams,
    step: number,
  ): void;
  /**
   * out[o, j, i] = src[o, index[o, j, i], i]: src is [outer, n, inner], index and out are
   * [outer, k, inner]. Every index must lie in [0, n); an invalid one throws before anything is written.
   */
  gather(src: DataArray, outer: number, n: number, inner: number, index: Int32Array, k: number, out: DataArray): void;
  /** out[o, index[o, j, i], i] = src[o, j, i] (src and index [outer, k, inner]); the largest duplicate j wins. */
  scatter(src: DataArray, outer: number, k: number, inner: number, index: Int32Array, n: number, out: DataArray): void;
  /** out[o, index[o, j, i], i] += src[o, j, i]; duplicates accumulate in j order. */
  scatterAdd(
    src: DataArray,
    outer: number,
    k: number,
    inner: number,
    index: Int32Array,
    n: number,
    out: DataArray,
  ): void;
  /** out[o, index[j], i] = src[o, j, i] (+= when accumulate) with a 1-D index of k entries. */
  indexPut(
    src: DataArray,
    outer: number,
    k: number,
    inner: number,
    index: Int32Array,
    n: number,
    out: DataArray,
    accumulate: boolean,
  ): void;
  /**
   * out[offsets[j] + heads[r] + i] = src[(j * h + r) * run + i] (+= when accumulate) for j < k,
   * r < h, i < run: a put whose indexed dims are not adjacent. The largest duplicate j wins.
   */
  indexPutAt(
    src: DataArray,
    k: number,
    offsets: Int32Array,
    h: number,
    heads: Int32Array,
    run: number,
    out: DataArray,
    accumulate: boolean,
  ): void;
}
