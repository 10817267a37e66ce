// AVX-512 GEMM: 12 x 32 float tiles (24 zmm accumulators of the 32) and 12 x 16 double tiles.
// MC 48 / KC 1024: of (144, 384), (144, 256), (240, 256), (96, 512), (120, 512), (72, 768),
// (192, 512) and (48, 1024), run interleaved on Zen 5 (one thread, n = 512..2048, medians of 5-6
// rounds), (48, 1024) was fastest or level at every size; a k up to 1024 is then one block, so C
// is written once.
#include "gemm_kernel.inc"

namespace {
using Vec16f = float __attribute__((vector_size(64)));
using Vec8d = double __attribute__((vector_size(64)));
}  // namespace

NODEGRAD_DEFINE_GEMM_VARIANT(avx512, Vec16f, 12, 2, Vec8d, 12, 2, 48, 1024, 4096)
