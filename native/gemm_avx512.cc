// AVX-512 GEMM: 12 x 32 float tiles (24 zmm accumulators of the 32) and 12 x 16 double tiles.
// MC 144 / KC 384 measured best of (192, 256), (144, 384), (196, 256), (112, 384) on Zen 5.
#include "gemm_kernel.inc"

namespace {
typedef float Vec16f __attribute__((vector_size(64)));
typedef double Vec8d __attribute__((vector_size(64)));
}  // namespace

NODEGRAD_DEFINE_GEMM_VARIANT(avx512, Vec16f, 12, 2, Vec8d, 12, 2, 144, 384, 4096)
