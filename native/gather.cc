// Gather and scatter along the middle axis of contiguous [outer, n, inner] layouts with an int32
// index. The glue checks every index (and offset) against its range before a kernel runs, except
// for gather, which checks each stretch of indices just before it reads through them.
#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>

#include "kernels.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

// parallelRange's work for `elements` indexed loads or stores: each costs about as much as four
// arithmetic operations (an address computed from a loaded index, a cache miss likely), so copies of
// 25k+ elements split over the pool, as PyTorch's 32k grain does.
inline double indexedWork(int64_t elements) { return 4.0 * double(elements); }

// int32 sums wrap, as the reference's Int32Array stores do (signed overflow is undefined in C++).
template <typename T>
inline T addWrapping(T a, T b) {
  return a + b;
}
template <>
inline int32_t addWrapping<int32_t>(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// Runs fn(o0, o1, i0, i1) over disjoint column blocks: no two calls share an (o, i) column, so
// no two threads write the same output element, and each column sees its j in order (the last
// duplicate wins, sums add in the reference's order). Rows go to threads when there are enough.
template <typename Fn>
void forColumnBlocks(int64_t outer, int64_t inner, double work, Fn&& fn) {
  if (outer >= numThreads() || inner == 1)
    parallelRange(outer, work, [&](int64_t o0, int64_t o1) { fn(o0, o1, 0, inner); });
  else
    parallelRange(inner, work, [&](int64_t i0, int64_t i1) { fn(0, outer, i0, i1); });
}

template <typename T, bool Add>
void scatterImpl(const T* src, int64_t outer, int64_t k, int64_t inner, const int32_t* index, int64_t n, T* out,
                 const T* base) {
  const double work = indexedWork(outer * k * inner);
  forColumnBlocks(outer, inner, work, [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
    // This block's columns of out, copied from base by the thread that scatters into them.
    if (base && i0 == 0 && i1 == inner) {
      std::copy(base + o0 * n * inner, base + o1 * n * inner, out + o0 * n * inner);
    } else if (base) {
      for (int64_t row = o0 * n; row < o1 * n; ++row)
        std::copy(base + row * inner + i0, base + row * inner + i1, out + row * inner + i0);
    }
    for (int64_t o = o0; o < o1; ++o) {
      const T* from = src + o * k * inner;
      const int32_t* idx = index + o * k * inner;
      T* to = out + o * n * inner;
      if (inner == 1) {
        for (int64_t j = 0; j < k; ++j) {
          if constexpr (Add)
            to[idx[j]] = addWrapping(to[idx[j]], from[j]);
          else
            to[idx[j]] = from[j];
        }
        continue;
      }
      for (int64_t j = 0; j < k; ++j, from += inner, idx += inner) {
        for (int64_t i = i0; i < i1; ++i) {
          T& slot = to[int64_t(idx[i]) * inner + i];
          if constexpr (Add)
            slot = addWrapping(slot, from[i]);
          else
            slot = from[i];
        }
      }
    }
  });
}

// out[j] = from[index[j]] for j < n. Eight loads, then eight stores: one load after each store let
// the CPU's memory disambiguation hold loads behind stores that might alias them (25-30% slower on a
// [1024, 1024] gather; the compilers emit no vector gathers for this loop).
template <typename T>
NODEGRAD_CLONES void gatherRow(const T* from, const int32_t* index, int64_t n, T* out) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const T a0 = from[index[j]], a1 = from[index[j + 1]], a2 = from[index[j + 2]], a3 = from[index[j + 3]];
    const T a4 = from[index[j + 4]], a5 = from[index[j + 5]], a6 = from[index[j + 6]], a7 = from[index[j + 7]];
    out[j] = a0;
    out[j + 1] = a1;
    out[j + 2] = a2;
    out[j + 3] = a3;
    out[j + 4] = a4;
    out[j + 5] = a5;
    out[j + 6] = a6;
    out[j + 7] = a7;
  }
  for (; j < n; ++j) out[j] = from[index[j]];
}

// to[i] = from[i] for i < inner: an inline vector loop (a memmove call per short row costs as much
// as the copy).
template <typename T>
NODEGRAD_CLONES void copyRow(const T* from, int64_t inner, T* to) {
  for (int64_t i = 0; i < inner; ++i) to[i] = from[i];
}

// to[i] += from[i] for i < inner.
template <typename T>
NODEGRAD_CLONES void addRow(const T* from, int64_t inner, T* to) {
  for (int64_t i = 0; i < inner; ++i) to[i] += from[i];
}

// Output rows r = o * k + j are independent: splits the outer * k of them over the pool, then calls
// fn(o, r, stop) for each stretch [r, stop) of rows that share one source block o.
template <typename Fn>
void forStretches(int64_t outer, int64_t k, int64_t inner, Fn&& fn) {
  const int64_t rows = outer * k;
  parallelRange(rows, indexedWork(rows * inner), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end;) {
      const int64_t o = r / k, stop = std::min(end, (o + 1) * k);
      fn(o, r, stop);
      r = stop;
    }
  });
}

}  // namespace

NODEGRAD_CLONES bool anyIndexAtLeast(const int32_t* index, int64_t n, uint32_t cap) {
  uint32_t found = 0;
  for (int64_t j = 0; j < n; ++j) found |= static_cast<uint32_t>(static_cast<uint32_t>(index[j]) >= cap);
  return found != 0;
}

template <typename T>
bool gather(const T* src, int64_t outer, int64_t n, int64_t inner, const int32_t* index, int64_t k, T* out) {
  // index and out are [outer, k, inner]: element (o, j, i) reads src (o, index, i). Each stretch's
  // indices are checked right before they are used (still in cache), not in a pass of their own.
  const uint32_t cap = n > INT32_MAX ? 0x80000000u : static_cast<uint32_t>(n);
  std::atomic<bool> bad{false};
  if (inner == 1) {
    forStretches(outer, k, inner, [&](int64_t o, int64_t r, int64_t stop) {
      if (bad.load(std::memory_order_relaxed) || anyIndexAtLeast(index + r, stop - r, cap)) {
        bad = true;
        return;
      }
      gatherRow(src + o * n, index + r, stop - r, out + r);
    });
    return !bad;
  }
  // Columns in blocks whose n source rows fit in ~256 KiB, every output row of a block before the
  // next: the block stays in cache while all k rows pick from it (row by row, each output row read
  // its elements from all over src: gather along dim 0 of [64, 65536] went to memory for each).
  constexpr int64_t kBlockBytes = int64_t{256} * 1024;
  if (outer == 0 || k == 0 || inner == 0) return true;
  const int64_t width =
      std::min(inner, std::max<int64_t>(16, kBlockBytes / int64_t(sizeof(T)) / std::max<int64_t>(n, 1)));
  const int64_t blocks = (inner + width - 1) / width;
  parallelRange(outer * blocks, indexedWork(outer * k * inner), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t o = b / blocks, i0 = (b % blocks) * width, i1 = std::min(inner, i0 + width);
      const T* from = src + o * n * inner;
      for (int64_t r = o * k; r < (o + 1) * k; ++r) {
        const int32_t* idx = index + r * inner;
        if (bad.load(std::memory_order_relaxed) || anyIndexAtLeast(idx + i0, i1 - i0, cap)) {
          bad = true;
          return;
        }
        T* to = out + r * inner;
        for (int64_t i = i0; i < i1; ++i) to[i] = from[int64_t(idx[i]) * inner + i];
      }
    }
  });
  return !bad;
}

template <typename T>
void indexSelect(const T* src, int64_t outer, int64_t n, int64_t inner, const int32_t* index, int64_t k, T* out) {
  // index is [k]: output row (o, j) is source row (o, index[j]).
  forStretches(outer, k, inner, [&](int64_t o, int64_t r, int64_t stop) {
    const T* from = src + o * n * inner;
    const int32_t* idx = index + (r - o * k);
    if (inner == 1) {
      gatherRow(from, idx, stop - r, out + r);
      return;
    }
    for (int64_t j = 0; j < stop - r; ++j) copyRow(from + int64_t(idx[j]) * inner, inner, out + (r + j) * inner);
  });
}

template <typename T>
void indexAdd(const T* src, int64_t outer, int64_t k, int64_t inner, const int32_t* index, int64_t n, T* out) {
  // Each thread owns a stretch of destination rows and adds the sources that land there in j order.
  parallelRange(n, indexedWork(outer * k * inner), [&](int64_t lo, int64_t hi) {
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < k; ++j) {
        const int64_t row = index[j];
        if (row < lo || row >= hi) continue;
        addRow(src + (o * k + j) * inner, inner, out + (o * n + row) * inner);
      }
    }
  });
}

template <typename T>
void scatter(const T* src, int64_t outer, int64_t k, int64_t inner, const int32_t* index, int64_t n, T* out,
             const T* base) {
  scatterImpl<T, false>(src, outer, k, inner, index, n, out, base);
}

template <typename T>
void scatterAdd(const T* src, int64_t outer, int64_t k, int64_t inner, const int32_t* index, int64_t n, T* out,
                const T* base) {
  scatterImpl<T, true>(src, outer, k, inner, index, n, out, base);
}

template <typename T>
void indexPut(const T* src, int64_t outer, int64_t k, int64_t inner, const int32_t* index, int64_t n, T* out,
              bool accumulate) {
  if (!accumulate && inner > 1) {
    // Whole rows. Each thread owns a stretch of destination rows and walks every j in order,
    // copying only the rows it owns: writes stay disjoint and whole, and the last duplicate wins.
    parallelRange(n, indexedWork(outer * k * inner), [&](int64_t lo, int64_t hi) {
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t j = 0; j < k; ++j) {
          const int64_t row = index[j];
          if (row < lo || row >= hi) continue;
          copyRow(src + (o * k + j) * inner, inner, out + (o * n + row) * inner);
        }
      }
    });
    return;
  }
  const double work = indexedWork(outer * k * inner);
  forColumnBlocks(outer, inner, work, [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
    for (int64_t o = o0; o < o1; ++o) {
      for (int64_t j = 0; j < k; ++j) {
        const T* from = src + (o * k + j) * inner;
        T* to = out + (o * n + index[j]) * inner;
        if (accumulate)
          for (int64_t i = i0; i < i1; ++i) to[i] = addWrapping(to[i], from[i]);
        else
          std::copy(from + i0, from + i1, to + i0);
      }
    }
  });
}

template <typename T>
void indexPutAt(const T* src, int64_t k, const int32_t* offsets, int64_t h, const int32_t* heads, int64_t run, T* out,
                bool accumulate) {
  // Distinct heads never meet (they step through other dims than the offsets), so (head, i)
  // columns are disjoint: threads split them, and each keeps j in order.
  const double work = indexedWork(k * h * run);
  forColumnBlocks(h, run, work, [&](int64_t r0, int64_t r1, int64_t i0, int64_t i1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t j = 0; j < k; ++j) {
        const T* from = src + (j * h + r) * run;
        T* to = out + int64_t(offsets[j]) + int64_t(heads[r]);
        if (accumulate)
          for (int64_t i = i0; i < i1; ++i) to[i] = addWrapping(to[i], from[i]);
        else
          std::copy(from + i0, from + i1, to + i0);
      }
    }
  });
}

// NOLINTBEGIN(bugprone-macro-parentheses): T is a type, which cannot be parenthesized.
#define NODEGRAD_GATHER_INSTANTIATE(T)                                                                     \
  template bool gather<T>(const T*, int64_t, int64_t, int64_t, const int32_t*, int64_t, T*);               \
  template void indexSelect<T>(const T*, int64_t, int64_t, int64_t, const int32_t*, int64_t, T*);          \
  template void scatter<T>(const T*, int64_t, int64_t, int64_t, const int32_t*, int64_t, T*, const T*);    \
  template void scatterAdd<T>(const T*, int64_t, int64_t, int64_t, const int32_t*, int64_t, T*, const T*); \
  template void indexPut<T>(const T*, int64_t, int64_t, int64_t, const int32_t*, int64_t, T*, bool);       \
  template void indexPutAt<T>(const T*, int64_t, const int32_t*, int64_t, const int32_t*, int64_t, T*, bool);
// NOLINTEND(bugprone-macro-parentheses)
template void indexAdd<float>(const float*, int64_t, int64_t, int64_t, const int32_t*, int64_t, float*);
template void indexAdd<double>(const double*, int64_t, int64_t, int64_t, const int32_t*, int64_t, double*);
NODEGRAD_GATHER_INSTANTIATE(float)
NODEGRAD_GATHER_INSTANTIATE(double)
NODEGRAD_GATHER_INSTANTIATE(int32_t)
#undef NODEGRAD_GATHER_INSTANTIATE

}  // namespace nodegrad
