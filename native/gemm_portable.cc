// Portable GEMM for CPUs without AVX2 (and non-x86 builds): 4 x 8 scalar tiles that the compiler
// may vectorize with the baseline instruction set.
#include "gemm_kernel.inc"

NODEGRAD_DEFINE_GEMM_VARIANT(portable, float, 4, 8, double, 4, 8, 128, 256, 2048)
