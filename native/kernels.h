// Kernel declarations shared by the N-API glue and the kernel files. Kernels know nothing of
// N-API or autograd: they read raw buffers whose sizes the glue has already checked.
#pragma once
#include <cstdint>
#include <string>

#include "unary_ops.h"

namespace nodegrad {

// ---- element-wise ----
#define NODEGRAD_UNARY_ENUM(Name, forward, backward) Name,
// The rows of native/unary_ops.h follow Affine, in table order.
enum class UnaryOp : int {
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
  NODEGRAD_UNARY_OPS(NODEGRAD_UNARY_ENUM) Count
};
#undef NODEGRAD_UNARY_ENUM
constexpr int kFirstTableUnaryOp = static_cast<int>(UnaryOp::Affine) + 1;
// Out-of-place over n contiguous elements; p1/p2 parameterize Clamp (lo, hi), ClampMask (lo, hi),
// PowScalar (exponent), Affine (scale, shift) and the table's ops.
template <typename T>
void unary(UnaryOp op, const T* x, T* out, int64_t n, double p1, double p2);
// out = the gradient of a table op's input from the upstream gradient g and the saved value s
// (input or output, per the table), all n contiguous elements.
template <typename T>
void unaryBackward(UnaryOp op, const T* s, const T* g, T* out, int64_t n, double p1, double p2);

enum class BinaryOp : int {
  Add = 0,
  Sub,
  Mul,
  Div,
  Pow,
  Maximum,
  Minimum,
  // Backward helpers: a is the upstream gradient, b the forward output.
  ReluBackward,
  SigmoidBackward,
  TanhBackward,
  Count
};
// out (contiguous, `shape`) = a op b, with a and b read through strides (0 for broadcast dims).
template <typename T>
void binary(BinaryOp op, int ndim, const int64_t* shape, const T* a, const int64_t* aStrides, const T* b,
            const int64_t* bStrides, T* out);

// dst (through dstStrides) = src (through srcStrides), both of `shape`.
template <typename T>
void copyStrided(int ndim, const int64_t* shape, const T* src, const int64_t* srcStrides, T* dst,
                 const int64_t* dstStrides);

// ---- reductions over the middle axis of a contiguous [outer, n, inner] view ----
enum class ReduceOp : int { Sum = 0, Max, Min, LogSumExp, Count };
// values (may be null for index-only) has outer*inner elements; indices (may be null) receives the
// position of the max/min along the axis, first occurrence on ties.
template <typename T>
void reduce(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, T* values, int32_t* indices);

// ---- indexing over the middle axis ----
// out[o, j, i] = src[o, index[j], i]; src is [outer, n, inner], out is [outer, k, inner].
template <typename T>
void indexSelect(const T* src, int64_t outer, int64_t n, int64_t inner, const int32_t* index, int64_t k, T* out);
// out[o, index[j], i] += src[o, j, i]; src is [outer, k, inner], out is [outer, n, inner].
template <typename T>
void indexAdd(const T* src, int64_t outer, int64_t k, int64_t inner, const int32_t* index, int64_t n, T* out);

// ---- GEMM, row-major ----
// C[i, j] = alpha * sum_k op(A)[i, k] * op(B)[k, j] + beta * C[i, j], where op(A) = A or A^T
// read in place. Repeated `batch` times with element strides strideA/B/C between matrices.
struct GemmArgs {
  bool transA = false, transB = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;
  int64_t batch = 1, strideA = 0, strideB = 0, strideC = 0;
  double alpha = 1.0, beta = 0.0;
  // Non-transposed B only: row p of B starts at b + bRows[p] instead of b + p * ldb (a convolution
  // reads its shifted input rows in place this way). Kernel-internal, never set from JS.
  const int64_t* bRows = nullptr;
};
void gemm_f32(const GemmArgs& args, const float* a, const float* b, float* c);
void gemm_f64(const GemmArgs& args, const double* a, const double* b, double* c);
// Runs on the calling thread only: for callers that already split work over the pool.
void gemm_f32_serial(const GemmArgs& args, const float* a, const float* b, float* c);
void gemm_f64_serial(const GemmArgs& args, const double* a, const double* b, double* c);
template <typename T>
inline void gemm(const GemmArgs& g, const T* a, const T* b, T* c);
template <>
inline void gemm<float>(const GemmArgs& g, const float* a, const float* b, float* c) {
  gemm_f32(g, a, b, c);
}
template <>
inline void gemm<double>(const GemmArgs& g, const double* a, const double* b, double* c) {
  gemm_f64(g, a, b, c);
}
template <typename T>
inline void gemmSerial(const GemmArgs& g, const T* a, const T* b, T* c);
template <>
inline void gemmSerial<float>(const GemmArgs& g, const float* a, const float* b, float* c) {
  gemm_f32_serial(g, a, b, c);
}
template <>
inline void gemmSerial<double>(const GemmArgs& g, const double* a, const double* b, double* c) {
  gemm_f64_serial(g, a, b, c);
}

// ---- convolution (NCHW input, [Cout, Cin / groups, kh, kw] weight) ----
struct Conv2dShape {
  int64_t batch = 0, inChannels = 0, inH = 0, inW = 0;
  int64_t outChannels = 0, kernelH = 0, kernelW = 0;
  int64_t strideH = 1, strideW = 1, padH = 0, padW = 0, dilationH = 1, dilationW = 1;
  int64_t groups = 1;
  int64_t outH = 0, outW = 0;  // derived by the caller (PyTorch's formula)
};
// out = conv(input, weight) + bias (bias may be null); relu applies max(0, .) in the same pass.
template <typename T>
void conv2dForward(const Conv2dShape& s, const T* input, const T* weight, const T* bias, T* out, bool relu);
// gradInput = conv_transpose(gradOut, weight); gradInput is overwritten.
template <typename T>
void conv2dBackwardInput(const Conv2dShape& s, const T* gradOut, const T* weight, T* gradInput);
// gradWeight (and gradBias when not null) = the gradients summed over the batch; overwritten.
template <typename T>
void conv2dBackwardWeight(const Conv2dShape& s, const T* input, const T* gradOut, T* gradWeight, T* gradBias);

// Direct stride-1 kernels for few channels (conv_direct.h), on AVX-512 CPUs: whether they run now,
// and a switch (returns the previous state; enabling has no effect where they are unavailable).
bool convDirectActive();
bool setConvDirect(bool enabled);

// ---- pooling over NCHW, planes = batch * channels ----
struct Pool2dShape {
  int64_t planes = 0, inH = 0, inW = 0, outH = 0, outW = 0;
  int64_t kernelH = 1, kernelW = 1, strideH = 1, strideW = 1, padH = 0, padW = 0;
  int64_t dilationH = 1, dilationW = 1;
  bool countIncludePad = true;
  int64_t divisorOverride = 0;  // 0 = none
};
// indices receive the flat position (h * inW + w) of each window's max within its plane.
template <typename T>
void maxPool2dForward(const Pool2dShape& s, const T* input, T* out, int32_t* indices);
// gradInput is overwritten with the gradient routed through indices.
template <typename T>
void maxPool2dBackward(const Pool2dShape& s, const T* gradOut, const int32_t* indices, T* gradInput);
template <typename T>
void avgPool2dForward(const Pool2dShape& s, const T* input, T* out);
template <typename T>
void avgPool2dBackward(const Pool2dShape& s, const T* gradOut, T* gradInput);
// Adaptive average pooling: window i spans [floor(i * in / out), ceil((i + 1) * in / out)).
template <typename T>
void adaptiveAvgPool2dForward(int64_t planes, int64_t inH, int64_t inW, int64_t outH, int64_t outW, const T* input,
                              T* out);
template <typename T>
void adaptiveAvgPool2dBackward(int64_t planes, int64_t inH, int64_t inW, int64_t outH, int64_t outW, const T* gradOut,
                               T* gradInput);

// ---- softmax family over the middle axis of [outer, n, inner] ----
template <typename T>
void softmax(const T* x, int64_t outer, int64_t n, int64_t inner, T* out, bool log);
// softmax: gx = y * (g - sum(g * y)); log-softmax: gx = g - exp(y) * sum(g).
template <typename T>
void softmaxBackward(const T* y, const T* g, int64_t outer, int64_t n, int64_t inner, T* gx, bool log);
// Cross-entropy from logits [n, classes] with class-index targets, in one pass per row:
// loss[i] = weighted, label-smoothed -log softmax; grad (may be null) = d loss[i] / d logits.
// Rows whose target equals ignoreIndex get loss 0 and gradient 0.
template <typename T>
void crossEntropy(const T* logits, int64_t n, int64_t classes, const int32_t* target, const T* weight,
                  int64_t ignoreIndex, double labelSmoothing, T* loss, T* grad);

// ---- optimizer updates, in place ----
struct SgdOptions {
  double lr = 0, momentum = 0, dampening = 0, weightDecay = 0;
  bool nesterov = false, maximize = false;
};
// momentumBuffer may be null (momentum 0); on the first step it is set to the gradient.
template <typename T>
void sgdStep(T* param, const T* grad, T* momentumBuffer, int64_t n, const SgdOptions& o, bool firstStep);

struct AdamOptions {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0;
  bool decoupled = false, maximize = false;  // decoupled: AdamW
};
// maxExpAvgSq non-null selects AMSGrad. step counts from 1.
template <typename T>
void adamStep(T* param, const T* grad, T* expAvg, T* expAvgSq, T* maxExpAvgSq, int64_t n, const AdamOptions& o,
              int64_t step);

// Which SIMD path GEMM picked at load time: "avx512", "avx2", or "portable".
const char* gemmIsa();
// Switches GEMM to the named variant ("avx512", "avx2", "portable") if this CPU runs it; false
// (and no change) otherwise.
bool setGemmIsa(const std::string& name);

// ---- gather / scatter along the middle axis (native/gather.cc) ----
// Whether any of n indices, read as unsigned, is >= cap (a negative one always is). Or-ing 0/1
// words vectorizes (10 us for 65536 indices on the baseline ISA, against 23 us for a bool |=); the
// AVX2 and AVX-512 clones take 2-3 us.
bool anyIndexAtLeast(const int32_t* index, int64_t n, uint32_t cap);
// out[o, j, i] = src[o, index[o, j, i], i]; src is [outer, n, inner], index and out [outer, k, inner].
// Returns false, out partly written, when an index lies outside [0, n).
template <typename T>
bool gather(const T* src, int64_t outer, int64_t n, int64_t inner, const int32_t* index, int64_t k, T* out);
// out[o, index[o, j, i], i] = src[o, j, i]; src and index are [outer, k, inner], out [outer, n, inner].
// Where index repeats a position, the largest j wins. With base (out's size, not overlapping it),
// out starts as a copy of base: each thread copies the block it then scatters into, so the block
// stays in that core's cache.
template <typename T>
void scatter(const T* src, int64_t outer, int64_t k, int64_t inner, const int32_t* index, int64_t n, T* out,
             const T* base = nullptr);
// As scatter with +=: duplicates accumulate, in j order.
template <typename T>
void scatterAdd(const T* src, int64_t outer, int64_t k, int64_t inner, const int32_t* index, int64_t n, T* out,
                const T* base = nullptr);
// out[o, index[j], i] = src[o, j, i] (+= when accumulate) with a 1-D index of k entries; src is
// [outer, k, inner], out [outer, n, inner]. Without accumulate the largest duplicate j wins.
template <typename T>
void indexPut(const T* src, int64_t outer, int64_t k, int64_t inner, const int32_t* index, int64_t n, T* out,
              bool accumulate);
// out[offsets[j] + heads[r] + i] = src[(j * h + r) * run + i] (+= when accumulate), for j < k,
// r < h, i < run: a put whose indexed dims are not adjacent. The largest duplicate j wins.
template <typename T>
void indexPutAt(const T* src, int64_t k, const int32_t* offsets, int64_t h, const int32_t* heads, int64_t run, T* out,
                bool accumulate);

}  // namespace nodegrad
