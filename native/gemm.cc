// GEMM front end: one table of instruction-set variants, the best one the CPU supports picked at
// load time, and the packing scratch, kept per thread and grown on demand so repeated calls fault
// no fresh pages.
#include <atomic>
#include <cstddef>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include <algorithm>

#include "gemm_isa.h"
#include "kernels.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

bool always() { return true; }
#if defined(__x86_64__)
bool hasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}
bool hasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

template <typename T>
struct GemmKernels {
  GemmScratch (*scratch)(const GemmArgs&);
  void (*run)(const GemmArgs&, const T* a, const T* b, T* c, T* packA, T* packB);
};

struct GemmVariant {
  const char* name;
  bool (*supported)();  // whether this CPU executes the variant's instructions
  GemmKernels<float> f32;
  GemmKernels<double> f64;
};

#define NODEGRAD_GEMM_VARIANT(isa, supported)                                                            \
  {                                                                                                      \
#isa, supported, {gemmScratch_f32_##isa, gemm_f32_##isa }, { gemmScratch_f64_##isa, gemm_f64_##isa } \
  }

// Best first: at load time the first one the CPU supports runs; gemmIsa(name) may pick any other
// supported one (tests run every variant this CPU can execute).
const GemmVariant kVariants[] = {
#if defined(__x86_64__)
    NODEGRAD_GEMM_VARIANT(avx512, hasAvx512),
    NODEGRAD_GEMM_VARIANT(avx2, hasAvx2),
#endif
    NODEGRAD_GEMM_VARIANT(portable, always),
};

const GemmVariant* bestSupported() {
  for (const GemmVariant& v : kVariants)
    if (v.supported()) return &v;
  return std::end(kVariants) - 1;
}

std::atomic<const GemmVariant*> gVariant{bestSupported()};

template <typename T>
const GemmKernels<T>& activeKernels() {
  const GemmVariant* v = gVariant.load(std::memory_order_relaxed);
  if constexpr (std::is_same_v<T, float>)
    return v->f32;
  else
    return v->f64;
}

template <typename T>
T* scratch(std::vector<T>& buffer, int64_t size) {
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<std::size_t>(size));
  return buffer.data();
}

// One serial GEMM on this thread's packing scratch.
template <typename T>
void runSerial(const GemmArgs& g, const T* a, const T* b, T* c, const GemmKernels<T>& kernels) {
  thread_local std::vector<T> packA, packB;
  const GemmScratch need = kernels.scratch(g);
  kernels.run(g, a, b, c, scratch(packA, need.packA), scratch(packB, need.packB));
}

// Splits the work over the pool: whole matrices when the batch is large enough, otherwise the
// larger of the row and column ranges, so each thread runs an independent serial GEMM on its
// slice with its own packed panels. Small problems stay on the calling thread.
template <typename T>
void runParallel(const GemmArgs& g, const T* a, const T* b, T* c, const GemmKernels<T>& kernels) {
  const double flops = 2.0 * static_cast<double>(g.m) * g.n * g.k * g.batch;
  const int threads = numThreads();
  // Measured: below ~2 MFLOP the wake-up and split cost more than a second core gives back.
  if (threads == 1 || flops < 2.0e6) {
    for (int64_t i = 0; i < g.batch; ++i)
      runSerial(g, a + i * g.strideA, b + i * g.strideB, c + i * g.strideC, kernels);
    return;
  }
  if (g.batch >= threads) {
    parallelFor(g.batch,
                [&](int64_t i) { runSerial(g, a + i * g.strideA, b + i * g.strideB, c + i * g.strideC, kernels); });
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
        runSerial(sub, ab + (g.transA ? begin : begin * g.lda), bb, cb + begin * g.ldc, kernels);
      } else {
        sub.n = end - begin;
        runSerial(sub, ab, bb + (g.transB ? begin * g.ldb : begin), cb + begin, kernels);
      }
    });
  }
}

template <typename T>
void runSerialBatched(const GemmArgs& g, const T* a, const T* b, T* c, const GemmKernels<T>& kernels) {
  if (g.m == 0 || g.n == 0) return;
  for (int64_t i = 0; i < g.batch; ++i) runSerial(g, a + i * g.strideA, b + i * g.strideB, c + i * g.strideC, kernels);
}

}  // namespace

bool setGemmIsa(const std::string& name) {
  for (const GemmVariant& v : kVariants)
    if (name == v.name) {
      if (!v.supported()) return false;
      gVariant.store(&v);
      return true;
    }
  return false;
}

const char* gemmIsa() { return gVariant.load(std::memory_order_relaxed)->name; }

void gemm_f32(const GemmArgs& g, const float* a, const float* b, float* c) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  runParallel(g, a, b, c, activeKernels<float>());
}

void gemm_f64(const GemmArgs& g, const double* a, const double* b, double* c) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  runParallel(g, a, b, c, activeKernels<double>());
}

void gemm_f32_serial(const GemmArgs& g, const float* a, const float* b, float* c) {
  runSerialBatched(g, a, b, c, activeKernels<float>());
}

void gemm_f64_serial(const GemmArgs& g, const double* a, const double* b, double* c) {
  runSerialBatched(g, a, b, c, activeKernels<double>());
}

}  // namespace nodegrad
