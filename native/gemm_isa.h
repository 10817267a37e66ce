// Per-instruction-set GEMM entry points. Each is defined in its own translation unit compiled
// with that ISA's flags; gemm.cc lists them in its variant table and runs the best one the CPU
// supports.
#pragma once
#include <cstdint>

#include "kernels.h"

namespace nodegrad {

// Scratch sizes (elements) a variant needs for its packed A block and packed B block.
struct GemmScratch {
  int64_t packA;
  int64_t packB;
};

#define NODEGRAD_DECLARE_GEMM_VARIANT(isa)                                                                \
  GemmScratch gemmScratch_f32_##isa(const GemmArgs& g);                                                   \
  GemmScratch gemmScratch_f64_##isa(const GemmArgs& g);                                                   \
  void gemm_f32_##isa(const GemmArgs& g, const float* a, const float* b, float* c, float* pa, float* pb); \
  void gemm_f64_##isa(const GemmArgs& g, const double* a, const double* b, double* c, double* pa, double* pb);

NODEGRAD_DECLARE_GEMM_VARIANT(avx512)
NODEGRAD_DECLARE_GEMM_VARIANT(avx2)
NODEGRAD_DECLARE_GEMM_VARIANT(portable)

}  // namespace nodegrad
