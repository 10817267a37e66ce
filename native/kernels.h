// Kernel declarations shared by the N-API glue and the kernel files. Kernels know nothing of
// N-API or autograd: they read raw buffers whose sizes the glue has already checked.
#pragma once
#include <cstdint>

namespace nodegrad {

// ---- element-wise ----
enum class UnaryOp : int {
  Neg = 0, Exp, Log, Sqrt, Abs, Sign, Relu, Sigmoid, Tanh, Clamp, ClampMask, PowScalar, Affine, Count
};
// Out-of-place over n contiguous elements; p1/p2 parameterize Clamp (lo, hi), ClampMask (lo, hi),
// PowScalar (exponent) and Affine (scale, shift).
template <typename T>
void unary(UnaryOp op, const T* x, T* out, int64_t n, double p1, double p2);

enum class BinaryOp : int {
  Add = 0, Sub, Mul, Div, Pow, Maximum, Minimum,
  // Backward helpers: a is the upstream gradient, b the forward output.
  ReluBackward, SigmoidBackward, TanhBackward, Count
};
// out (contiguous, `shape`) = a op b, with a and b read through strides (0 for broadcast dims).
template <typename T>
void binary(BinaryOp op, int ndim, const int64_t* shape, const T* a, const int64_t* aStrides,
            const T* b, const int64_t* bStrides, T* out);

// dst (through dstStrides) = src (through srcStrides), both of `shape`.
template <typename T>
void copyStrided(int ndim, const int64_t* shape, const T* src, const int64_t* srcStrides, T* dst,
                 const int64_t* dstStrides);

// ---- reductions over the middle axis of a contiguous [outer, n, inner] view ----
enum class ReduceOp : int { Sum = 0, Max, Min, LogSumExp, Count };
// values (may be null for index-only) has outer*inner elements; indices (may be null) receives the
// position of the max/min along the axis, first occurrence on ties.
template <typename T>
void reduce(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, T* values,
            int32_t* indices);

// ---- indexing over the middle axis ----
// out[o, j, i] = src[o, index[j], i]; src is [outer, n, inner], out is [outer, k, inner].
template <typename T>
void indexSelect(const T* src, int64_t outer, int64_t n, int64_t inner, const int32_t* index,
                 int64_t k, T* out);
// out[o, index[j], i] += src[o, j, i]; src is [outer, k, inner], out is [outer, n, inner].
template <typename T>
void indexAdd(const T* src, int64_t outer, int64_t k, int64_t inner, const int32_t* index,
              int64_t n, T* out);

// ---- GEMM, row-major ----
// C[i, j] = alpha * sum_k op(A)[i, k] * op(B)[k, j] + beta * C[i, j], where op(A) = A or A^T
// read in place. Repeated `batch` times with element strides strideA/B/C between matrices.
struct GemmArgs {
  bool transA = false, transB = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;
  int64_t batch = 1, strideA = 0, strideB = 0, strideC = 0;
  double alpha = 1.0, beta = 0.0;
};
void gemm_f32(const GemmArgs& args, const float* a, const float* b, float* c);
void gemm_f64(const GemmArgs& args, const double* a, const double* b, double* c);

// Which SIMD path GEMM picked at load time: "avx512", "avx2", or "portable".
const char* gemmIsa();

}  // namespace nodegrad
