// GEMM front end: picks the instruction-set variant once at load time and owns the packing
// scratch, kept per thread and grown on demand so repeated calls fault no fresh pages.
#include <cstddef>
#include <vector>

#include "gemm_isa.h"
#include "kernels.h"

namespace nodegrad {
namespace {

enum class Isa { Avx512, Avx2, Portable };

Isa detectIsa() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Portable;
}

const Isa kIsa = detectIsa();

template <typename T>
T* scratch(std::vector<T>& buffer, int64_t size) {
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<std::size_t>(size));
  return buffer.data();
}

template <typename T, typename ScratchFn, typename GemmFn>
void runBatched(const GemmArgs& g, const T* a, const T* b, T* c, ScratchFn scratchFn,
                GemmFn gemmFn) {
  thread_local std::vector<T> packA, packB;
  const GemmScratch need = scratchFn(g);
  T* pa = scratch(packA, need.packA);
  T* pb = scratch(packB, need.packB);
  for (int64_t i = 0; i < g.batch; ++i) {
    gemmFn(g, a + i * g.strideA, b + i * g.strideB, c + i * g.strideC, pa, pb);
  }
}

}  // namespace

const char* gemmIsa() {
  switch (kIsa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Portable: break;
  }
  return "portable";
}

void gemm_f32(const GemmArgs& g, const float* a, const float* b, float* c) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  switch (kIsa) {
#if defined(__x86_64__)
    case Isa::Avx512: return runBatched(g, a, b, c, gemmScratch_f32_avx512, gemm_f32_avx512);
    case Isa::Avx2: return runBatched(g, a, b, c, gemmScratch_f32_avx2, gemm_f32_avx2);
#endif
    default: break;
  }
  runBatched(g, a, b, c, gemmScratch_f32_portable, gemm_f32_portable);
}

void gemm_f64(const GemmArgs& g, const double* a, const double* b, double* c) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  switch (kIsa) {
#if defined(__x86_64__)
    case Isa::Avx512: return runBatched(g, a, b, c, gemmScratch_f64_avx512, gemm_f64_avx512);
    case Isa::Avx2: return runBatched(g, a, b, c, gemmScratch_f64_avx2, gemm_f64_avx2);
#endif
    default: break;
  }
  runBatched(g, a, b, c, gemmScratch_f64_portable, gemm_f64_portable);
}

}  // namespace nodegrad
