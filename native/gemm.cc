// GEMM front end: picks the instruction-set variant once at load time and owns the packing
// scratch, kept per thread and grown on demand so repeated calls fault no fresh pages.
#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include <algorithm>

#include "gemm_isa.h"
#include "kernels.h"
#include "thread_pool.h"

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

const Isa kDetected = detectIsa();
// The variant in use: the detected one, or a lower one picked by setGemmIsa (tests run every
// variant this CPU can execute).
std::atomic<Isa> gIsa{kDetected};

template <typename T>
T* scratch(std::vector<T>& buffer, int64_t size) {
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<std::size_t>(size));
  return buffer.data();
}

// One serial GEMM on this thread's packing scratch.
template <typename T, typename ScratchFn, typename GemmFn>
void runSerial(const GemmArgs& g, const T* a, const T* b, T* c, ScratchFn scratchFn, GemmFn gemmFn) {
  thread_local std::vector<T> packA, packB;
  const GemmScratch need = scratchFn(g);
  gemmFn(g, a, b, c, scratch(packA, need.packA), scratch(packB, need.packB));
}

// Splits the work over the pool: whole matrices when the batch is large enough, otherwise the
// larger of the row and column ranges, so each thread runs an independent serial GEMM on its
// slice with its own packed panels. Small problems stay on the calling thread.
template <typename T, typename ScratchFn, typename GemmFn>
void runParallel(const GemmArgs& g, const T* a, const T* b, T* c, ScratchFn scratchFn, GemmFn gemmFn) {
  const double flops = 2.0 * static_cast<double>(g.m) * g.n * g.k * g.batch;
  const int threads = numThreads();
  // Measured: below ~2 MFLOP the wake-up and split cost more than a second core gives back.
  if (threads == 1 || flops < 2.0e6) {
    for (int64_t i = 0; i < g.batch; ++i)
      runSerial(g, a + i * g.strideA, b + i * g.strideB, c + i * g.strideC, scratchFn, gemmFn);
    return;
  }
  if (g.batch >= threads) {
    parallelFor(g.batch, [&](int64_t i) {
      runSerial(g, a + i * g.strideA, b + i * g.strideB, c + i * g.strideC, scratchFn, gemmFn);
    });
    return;
  }
  const bool splitRows = g.m >= g.n;
  const int64_t extent = splitRows ? g.m : g.n;
  const int64_t unit = 32;  // keeps slices a multiple of every micro-tile edge
  const int64_t units = (extent + unit - 1) / unit;
  const int64_t parts = std::min<int64_t>(threads, units);
  for (int64_t i = 0; i < g.batch; ++i) {
    const T* ab = a + i * g.strideA;
    const T* bb = b + i * g.strideB;
    T* cb = c + i * g.strideC;
    parallelFor(parts, [&](int64_t part) {
      const int64_t begin = std::min(extent, units * part / parts * unit);
      const int64_t end = std::min(extent, units * (part + 1) / parts * unit);
      if (begin >= end) return;
      GemmArgs sub = g;
      sub.batch = 1;
      if (splitRows) {
        sub.m = end - begin;
        runSerial(sub, ab + (g.transA ? begin : begin * g.lda), bb, cb + begin * g.ldc, scratchFn, gemmFn);
      } else {
        sub.n = end - begin;
        runSerial(sub, ab, bb + (g.transB ? begin * g.ldb : begin), cb + begin, scratchFn, gemmFn);
      }
    });
  }
}

template <typename T, typename ScratchFn, typename GemmFn>
void runSerialBatched(const GemmArgs& g, const T* a, const T* b, T* c, ScratchFn scratchFn, GemmFn gemmFn) {
  if (g.m == 0 || g.n == 0) return;
  for (int64_t i = 0; i < g.batch; ++i)
    runSerial(g, a + i * g.strideA, b + i * g.strideB, c + i * g.strideC, scratchFn, gemmFn);
}

}  // namespace

bool setGemmIsa(const std::string& name) {
  Isa wanted;
  if (name == "avx512") wanted = Isa::Avx512;
  else if (name == "avx2") wanted = Isa::Avx2;
  else if (name == "portable") wanted = Isa::Portable;
  else return false;
  // Isa is ordered best first: a variant runs here if it is the detected one or a lower one.
  if (static_cast<int>(wanted) < static_cast<int>(kDetected)) return false;
  gIsa.store(wanted);
  return true;
}

const char* gemmIsa() {
  switch (gIsa.load(std::memory_order_relaxed)) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Portable: break;
  }
  return "portable";
}

void gemm_f32(const GemmArgs& g, const float* a, const float* b, float* c) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  switch (gIsa.load(std::memory_order_relaxed)) {
#if defined(__x86_64__)
    case Isa::Avx512: return runParallel(g, a, b, c, gemmScratch_f32_avx512, gemm_f32_avx512);
    case Isa::Avx2: return runParallel(g, a, b, c, gemmScratch_f32_avx2, gemm_f32_avx2);
#endif
    default: break;
  }
  runParallel(g, a, b, c, gemmScratch_f32_portable, gemm_f32_portable);
}

void gemm_f64(const GemmArgs& g, const double* a, const double* b, double* c) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  switch (gIsa.load(std::memory_order_relaxed)) {
#if defined(__x86_64__)
    case Isa::Avx512: return runParallel(g, a, b, c, gemmScratch_f64_avx512, gemm_f64_avx512);
    case Isa::Avx2: return runParallel(g, a, b, c, gemmScratch_f64_avx2, gemm_f64_avx2);
#endif
    default: break;
  }
  runParallel(g, a, b, c, gemmScratch_f64_portable, gemm_f64_portable);
}

void gemm_f32_serial(const GemmArgs& g, const float* a, const float* b, float* c) {
  switch (gIsa.load(std::memory_order_relaxed)) {
#if defined(__x86_64__)
    case Isa::Avx512: return runSerialBatched(g, a, b, c, gemmScratch_f32_avx512, gemm_f32_avx512);
    case Isa::Avx2: return runSerialBatched(g, a, b, c, gemmScratch_f32_avx2, gemm_f32_avx2);
#endif
    default: break;
  }
  runSerialBatched(g, a, b, c, gemmScratch_f32_portable, gemm_f32_portable);
}

void gemm_f64_serial(const GemmArgs& g, const double* a, const double* b, double* c) {
  switch (gIsa.load(std::memory_order_relaxed)) {
#if defined(__x86_64__)
    case Isa::Avx512: return runSerialBatched(g, a, b, c, gemmScratch_f64_avx512, gemm_f64_avx512);
    case Isa::Avx2: return runSerialBatched(g, a, b, c, gemmScratch_f64_avx2, gemm_f64_avx2);
#endif
    default: break;
  }
  runSerialBatched(g, a, b, c, gemmScratch_f64_portable, gemm_f64_portable);
}

}  // namespace nodegrad
