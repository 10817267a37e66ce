/** The contract every backend (native CPU, pure TypeScript reference, later CUDA) implements. */

export type DType = 'float32' | 'float64' | 'int32';
export type FloatArray = Float32Array | Float64Array;
export type DataArray = Float32Array | Float64Array | Int32Array;

/** Unary element-wise ops; the numeric values are shared with native/kernels.h. */
export enum UnaryOp {
  Neg = 0, Exp, Log, Sqrt, Abs, Sign, Relu, Sigmoid, Tanh, Clamp, ClampMask, PowScalar, Affine,
}

/** Binary element-wise ops; the *Backward ones take (upstream gradient, forward output). */
export enum BinaryOp {
  Add = 0, Sub, Mul, Div, Pow, Maximum, Minimum, ReluBackward, SigmoidBackward, TanhBackward,
}

export enum ReduceOp { Sum = 0, Max, Min, LogSumExp }

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

export interface Backend {
  readonly name: string;
  /** out[0..n) = op(x[0..n)); p1/p2 parameterize Clamp, ClampMask, PowScalar, Affine. */
  unary(op: UnaryOp, x: FloatArray, out: FloatArray, n: number, p1: number, p2: number): void;
  /** out (contiguous, `shape`) = a op b, a and b read through strides (0 = broadcast). */
  binary(op: BinaryOp, shape: readonly number[], a: StridedView, b: StridedView, out: DataArray): void;
  /** Copies the strided view src into the strided view dst, both of `shape`. */
  copyStrided(shape: readonly number[], src: StridedView, dst: StridedView): void;
  /** Reduces the middle axis of contiguous [outer, n, inner]; indices only for Max/Min. */
  reduce(op: ReduceOp, x: FloatArray, outer: number, n: number, inner: number,
    values: FloatArray | null, indices: Int32Array | null): void;
  /** out[o, j, i] = src[o, index[j], i]. */
  indexSelect(src: DataArray, outer: number, n: number, inner: number, index: Int32Array,
    k: number, out: DataArray): void;
  /** out[o, index[j], i] += src[o, j, i]. */
  indexAdd(src: FloatArray, outer: number, k: number, inner: number, index: Int32Array,
    n: number, out: FloatArray): void;
  gemm(params: GemmParams, a: FloatArray, b: FloatArray, c: FloatArray): void;
}
