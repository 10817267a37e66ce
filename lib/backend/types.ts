/** The contract every backend implements: the native CPU addon and the pure TypeScript reference. */

/** `bool` is one byte per element (0 or 1) in a Uint8Array. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';
/** The typed arrays of the float dtypes. */
export type FloatArray = Float32Array | Float64Array;
/** The typed arrays of every dtype (Uint8Array holds bool). */
export type DataArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/**
 * Unary element-wise ops; the numeric values are shared with native/kernels.h. The ops of the
 * table in lib/ops/unary.ts (native/unary_ops.h) follow Affine, numbered from FirstTableOp in
 * table order.
 */
export enum UnaryOp {
  /** -x */
  Neg = 0,
  /** e^x */
  Exp,
  /** Natural logarithm. */
  Log,
  /** Square root. */
  Sqrt,
  /** |x| */
  Abs,
  /** -1, 0 or 1 by sign. */
  Sign,
  /** max(x, 0) */
  Relu,
  /** 1 / (1 + e^-x) */
  Sigmoid,
  /** Hyperbolic tangent. */
  Tanh,
  /** x limited to [p1, p2]. */
  Clamp,
  /** 1 where p1 <= x <= p2, else 0 (clamp's gradient mask). */
  ClampMask,
  /** x ** p1 */
  PowScalar,
  /** p1 · x + p2 */
  Affine,
  /** The first op of the unary table (lib/ops/unary.ts). */
  FirstTableOp,
}

/** Binary element-wise ops; the *Backward ones take (upstream gradient, forward output). */
export enum BinaryOp {
  /** a + b */
  Add = 0,
  /** a - b */
  Sub,
  /** a · b */
  Mul,
  /** a / b */
  Div,
  /** a ** b */
  Pow,
  /** max(a, b) */
  Maximum,
  /** min(a, b) */
  Minimum,
  /** g where out > 0, else 0. */
  ReluBackward,
  /** g · out · (1 - out) */
  SigmoidBackward,
  /** g · (1 - out²) */
  TanhBackward,
}

/** Reductions over the middle axis of [outer, n, inner]; the numeric values are shared with native/kernels.h. */
export enum ReduceOp {
  /** Sum of the n elements. */
  Sum = 0,
  /** Largest element (and its index). */
  Max,
  /** Smallest element (and its index). */
  Min,
  /** log(sum(exp(x))), computed stably. */
  LogSumExp,
}

/** A strided view of a buffer, as kernels read it. */
export interface StridedView<A extends DataArray = DataArray> {
  /** The buffer. */
  data: A;
  /** Index of the first element. */
  offset: number;
  /** Elements to step per index of each dim (0 broadcasts). */
  strides: readonly number[];
}

/** Row-major GEMM parameters: C = alpha * op(A) op(B) + beta * C, `batch` times. */
export interface GemmParams {
  /** Read A transposed. */
  transA: boolean;
  /** Read B transposed. */
  transB: boolean;
  /** Rows of op(A) and C. */
  m: number;
  /** Columns of op(B) and C. */
  n: number;
  /** Columns of op(A), rows of op(B). */
  k: number;
  /** Scale of the product. */
  alpha: number;
  /** Scale of the existing C (0 overwrites it). */
  beta: number;
  /** Index of A's first element. */
  aOffset: number;
  /** Row stride of A as stored. */
  lda: number;
  /** Index of B's first element. */
  bOffset: number;
  /** Row stride of B as stored. */
  ldb: number;
  /** Index of C's first element. */
  cOffset: number;
  /** Row stride of C. */
  ldc: number;
  /** Number of products. */
  batch: number;
  /** Elements between consecutive A matrices (0 reuses one). */
  strideA: number;
  /** Elements between consecutive B matrices (0 reuses one). */
  strideB: number;
  /** Elements between consecutive C matrices. */
  strideC: number;
}

/** A sliding window over a plane of inH x inW: kernel, stride, padding and dilation per axis. */
export interface Window2dParams {
  /** Input height. */
  inH: number;
  /** Input width. */
  inW: number;
  /** Window height. */
  kernelH: number;
  /** Window width. */
  kernelW: number;
  /** Vertical step. */
  strideH: number;
  /** Horizontal step. */
  strideW: number;
  /** Padding rows on each side. */
  padH: number;
  /** Padding columns on each side. */
  padW: number;
  /** Vertical spacing of window elements. */
  dilationH: number;
  /** Horizontal spacing of window elements. */
  dilationW: number;
}

/** A 2-D convolution's geometry (NCHW input, [outC, inC / groups, kH, kW] weight). */
export interface Conv2dParams extends Window2dParams {
  /** Batch size N. */
  batch: number;
  /** Input channels. */
  inChannels: number;
  /** Output channels. */
  outChannels: number;
  /** Channel groups (inChannels and outChannels divide by it). */
  groups: number;
}

/** A 2-D pooling's geometry over `planes` = batch * channels planes of inH x inW. */
export interface Pool2dParams extends Window2dParams {
  /** batch · channels. */
  planes: number;
  /** Output size rounded up (PyTorch's ceil_mode). */
  ceilMode: boolean;
  /** Padded zeros count in the average's divisor. */
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
  /** batch · channels. */
  planes: number;
  /** Input height. */
  inH: number;
  /** Input width. */
  inW: number;
  /** Output height. */
  outH: number;
  /** Output width. */
  outW: number;
}

/** Geometry and options of the fused cross-entropy kernel. */
export interface CrossEntropyParams {
  /** Rows (samples). */
  n: number;
  /** Classes C (the row length). */
  classes: number;
  /** Rows whose target equals this get loss 0 and gradient 0. */
  ignoreIndex: number;
  /** Mixes the target with the uniform distribution, in [0, 1]. */
  labelSmoothing: number;
}

/** Geometry of the row-normalization kernels (LayerNorm, RMSNorm): `rows` contiguous rows of `cols`. */
export interface LayerNormParams {
  /** Rows normalized independently. */
  rows: number;
  /** Elements per row. */
  cols: number;
  /** Added to the variance before its square root (forward only). */
  eps: number;
  /** RMSNorm: no mean subtracted; the variance is mean(x²). */
  rms: boolean;
}

/** Geometry and options of the batch-norm kernels over dense x [batch, channels, plane]. */
export interface BatchNormParams {
  /** N. */
  batch: number;
  /** C, the normalized channels. */
  channels: number;
  /** Elements per (sample, channel): the product of the dims after C. */
  plane: number;
  /** Added to the variance before its square root (forward only). */
  eps: number;
  /** Weight of this batch in the running statistics, in [0, 1] (forward with training only). */
  momentum: number;
  /** Batch statistics (updating the running ones) when true; the running statistics when false. */
  training: boolean;
  /** max(y, 0) fused after the affine; the backward masks the gradient where y ≤ 0. */
  relu: boolean;
}

/** Hyperparameters of one SGD step (PyTorch's torch.optim.SGD). */
export interface SgdParams {
  /** Learning rate. */
  lr: number;
  /** Momentum factor (0: none). */
  momentum: number;
  /** Dampening of the momentum. */
  dampening: number;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
  /** Nesterov momentum. */
  nesterov: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/** Hyperparameters of one Adam/AdamW step (PyTorch's torch.optim.Adam / AdamW). */
export interface AdamParams {
  /** Learning rate. */
  lr: number;
  /** Decay of the first-moment average. */
  beta1: number;
  /** Decay of the second-moment average. */
  beta2: number;
  /** Added to the denominator. */
  eps: number;
  /** Weight decay factor. */
  weightDecay: number;
  /** AdamW: decay the weights directly instead of adding weightDecay·w to the gradient. */
  decoupled: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/** One time step of a recurrent layer's gate kernels: `batch` rows of `hidden` features, dense buffers. */
export interface RecurrentCellParams {
  /** Rows N. */
  batch: number;
  /** Hidden size H (the gate buffers are [N, gates · H]). */
  hidden: number;
}

/** A plain RNN step's parameters: the shape and the nonlinearity. */
export interface RnnCellParams extends RecurrentCellParams {
  /** ReLU instead of tanh. */
  relu: boolean;
}

/** Geometry of scaled dot-product attention over dense [batch, rows, features] buffers. */
export interface AttentionParams {
  /** Every leading dim multiplied (batch · heads). */
  batch: number;
  /** Query rows L. */
  queries: number;
  /** Key and value rows S. */
  keys: number;
  /** Features E of queries and keys. */
  headDim: number;
  /** Features Ev of values and the output. */
  valueDim: number;
  /** Factor of the scores q · k. */
  scale: number;
  /** Query i sees keys j <= i only (top-left aligned). */
  causal: boolean;
}

/**
 * The kernels every backend provides. The native addon exports exactly these functions with these
 * arguments (native/binding*.cc reads the parameter objects by field name).
 */
export interface Backend {
  /** 'native' or 'reference'. */
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
  /** C = alpha · op(A) op(B) + beta · C, `batch` times (see GemmParams). */
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
  /** gradInput (zeroed first) receives each gradOut at its window's argmax, summed. */
  maxPool2dBackward(p: Pool2dParams, gradOut: FloatArray, indices: Int32Array, gradInput: FloatArray): void;
  /** Average of each window. */
  avgPool2dForward(p: Pool2dParams, input: FloatArray, out: FloatArray): void;
  /** gradInput (overwritten) from gradOut spread over each window. */
  avgPool2dBackward(p: Pool2dParams, gradOut: FloatArray, gradInput: FloatArray): void;
  /** Average over windows chosen so the output is outH x outW. */
  adaptiveAvgPool2dForward(p: AdaptivePool2dParams, input: FloatArray, out: FloatArray): void;
  /** gradInput (overwritten) from gradOut spread over each adaptive window. */
  adaptiveAvgPool2dBackward(p: AdaptivePool2dParams, gradOut: FloatArray, gradInput: FloatArray): void;
  /** Softmax (or log-softmax) over the middle axis of [outer, n, inner]. */
  softmax(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray, log: boolean): void;
  /** gx = the input gradient of softmax (or log-softmax) from its output y and the upstream g. */
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
  /**
   * out = (x − mean) · rstd · weight + bias per row (see LayerNormParams); weight and bias [cols] may be
   * null. mean (null when rms) and rstd [rows] receive each row's statistics for the backward.
   */
  layerNormForward(
    p: LayerNormParams,
    x: FloatArray,
    weight: FloatArray | null,
    bias: FloatArray | null,
    out: FloatArray,
    mean: FloatArray | null,
    rstd: FloatArray,
  ): void;
  /**
   * Gradients of sum(out · grad) from the saved mean and rstd: gradInput [rows, cols], gradWeight and
   * gradBias [cols] (each overwritten; null ones are skipped).
   */
  layerNormBackward(
    p: LayerNormParams,
    x: FloatArray,
    grad: FloatArray,
    weight: FloatArray | null,
    mean: FloatArray | null,
    rstd: FloatArray,
    gradInput: FloatArray | null,
    gradWeight: FloatArray | null,
    gradBias: FloatArray | null,
  ): void;
  /**
   * Batch norm in one statistics pass and one normalize pass per channel: out = (x − mean) · invstd ·
   * weight + bias (then ReLU when p.relu). Training: mean and biased variance from x, runningMean and
   * runningVar (when given) updated in place with p.momentum and the unbiased variance; otherwise they are
   * the statistics. saveMean and saveInvstd [channels] receive the statistics used, for the backward.
   */
  batchNormForward(
    p: BatchNormParams,
    x: FloatArray,
    weight: FloatArray | null,
    bias: FloatArray | null,
    runningMean: FloatArray | null,
    runningVar: FloatArray | null,
    out: FloatArray,
    saveMean: FloatArray,
    saveInvstd: FloatArray,
  ): void;
  /**
   * Gradients of sum(out · grad) from the forward's saveMean and saveInvstd in one reduction pass and
   * one dx pass per channel; with p.relu the mask y > 0 is recomputed from x, weight and bias.
   * gradInput, gradWeight and gradBias are overwritten; null ones are skipped.
   */
  batchNormBackward(
    p: BatchNormParams,
    x: FloatArray,
    grad: FloatArray,
    weight: FloatArray | null,
    bias: FloatArray | null,
    saveMean: FloatArray,
    saveInvstd: FloatArray,
    gradInput: FloatArray | null,
    gradWeight: FloatArray | null,
    gradBias: FloatArray | null,
  ): void;
  /** out[0..n) = max(a + b, 0): a residual connection and its ReLU in one pass. */
  addRelu(n: number, a: FloatArray, b: FloatArray, out: FloatArray): void;
  /**
   * Attention without the L x S score matrix: out [batch, L, Ev] = softmax(q kᵀ · scale) v, and
   * logsumexp [batch, L] of each score row (-inf where a row sees no key; its output is 0).
   */
  attentionForward(
    p: AttentionParams,
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    out: FloatArray,
    logsumexp: FloatArray,
  ): void;
  /** gradQ, gradK, gradV (overwritten) from gradOut, recomputing the scores from q, k and logsumexp. */
  attentionBackward(
    p: AttentionParams,
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    out: FloatArray,
    logsumexp: FloatArray,
    gradOut: FloatArray,
    gradQ: FloatArray,
    gradK: FloatArray,
    gradV: FloatArray,
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
  /** The position of the first entry of `index` outside [0, limit), or -1 when all lie inside. */
  firstOutOfRange(index: Int32Array, limit: number): number;
  /**
   * out[o, j, i] = src[o, index[o, j, i], i]: src is [outer, n, inner], index and out are
   * [outer, k, inner]. Every index must lie in [0, n); an invalid one throws, leaving out's contents
   * unspecified (out is the op's own new tensor).
   */
  gather(src: DataArray, outer: number, n: number, inner: number, index: Int32Array, k: number, out: DataArray): void;
  /**
   * out[o, index[o, j, i], i] = src[o, j, i] (src and index [outer, k, inner]); the largest duplicate j
   * wins. With `base` (out's length, another buffer), out first takes base's values.
   */
  scatter(
    src: DataArray,
    outer: number,
    k: number,
    inner: number,
    index: Int32Array,
    n: number,
    out: DataArray,
    base?: DataArray,
  ): void;
  /** out[o, index[o, j, i], i] += src[o, j, i]; duplicates accumulate in j order. `base` as for scatter. */
  scatterAdd(
    src: DataArray,
    outer: number,
    k: number,
    inner: number,
    index: Int32Array,
    n: number,
    out: DataArray,
    base?: DataArray,
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
  /** h = act(xGates + hGates + biasHh), act tanh or ReLU; all [N, H] (biasHh [H] or null). */
  rnnCell(p: RnnCellParams, xGates: FloatArray, hGates: FloatArray, biasHh: FloatArray | null, h: FloatArray): void;
  /** gradGates = gradH · act'(a), read from the step's output h. */
  rnnCellBackward(p: RnnCellParams, h: FloatArray, gradH: FloatArray, gradGates: FloatArray): void;
  /**
   * One LSTM step from the gate pre-activations xGates + hGates + biasHh ([N, 4H], order i, f, g, o):
   * c = f · cPrev + i · g, h = o · tanh(c); gates (or null) receives the activated gates.
   */
  lstmCell(
    p: RecurrentCellParams,
    xGates: FloatArray,
    hGates: FloatArray,
    biasHh: FloatArray | null,
    cPrev: FloatArray,
    c: FloatArray,
    h: FloatArray,
    gates: FloatArray | null,
  ): void;
  /**
   * The reverse LSTM step: gradGates [N, 4H] = the gradient of the pre-activations from gradH;
   * gradC holds the gradient of c on entry and that of cPrev on return.
   */
  lstmCellBackward(
    p: RecurrentCellParams,
    gates: FloatArray,
    cPrev: FloatArray,
    c: FloatArray,
    gradH: FloatArray,
    gradC: FloatArray,
    gradGates: FloatArray,
  ): void;
  /**
   * One GRU step (order r, z, n): n = tanh(xN + r · (hN + bHN)), h = (1 - z) · n + z · hPrev, with the
   * input bias already in xGates and hGates without bias; saved (or null, [N, 4H]) receives r, z, n, hN + bHN.
   */
  gruCell(
    p: RecurrentCellParams,
    xGates: FloatArray,
    hGates: FloatArray,
    biasHh: FloatArray | null,
    hPrev: FloatArray,
    h: FloatArray,
    saved: FloatArray | null,
  ): void;
  /**
   * The reverse GRU step: the gradients of the input and hidden projections ([N, 3H], which differ in the
   * n part) from gradH; gradHPrev += the direct z · gradH term.
   */
  gruCellBackward(
    p: RecurrentCellParams,
    saved: FloatArray,
    hPrev: FloatArray,
    gradH: FloatArray,
    gradXGates: FloatArray,
    gradHGates: FloatArray,
    gradHPrev: FloatArray,
  ): void;
}
