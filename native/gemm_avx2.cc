// AVX2+FMA GEMM: 6 x 16 float tiles (12 ymm accumulators of the 16) and 6 x 8 double tiles.
#include "gemm_kernel.inc"

namespace {
using Vec8f = float __attribute__((vector_size(32)));
using Vec4d = double __attribute__((vector_size(32)));
}  // namespace

NODEGRAD_DEFINE_GEMM_VARIANT(avx2, Vec8f, 6, 2, Vec4d, 6, 2, 120, 256, 4096)
