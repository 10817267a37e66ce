// Reductions along the middle axis of a contiguous [outer, n, inner] view, and index gathers /
// scatter-adds along the same axis. Sums accumulate in double so float32 results stay within
// rounding of the float64 reference.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {

namespace {

// Sums along the middle axis when it is not the last (bias gradients: [batch, features] summed over
// the batch): whole rows are added into double accumulators, a contiguous loop that vectorizes,
// instead of walking each column with a stride.
// Columns [0, width) of rows `inner` apart.
template <typename T>
NODEGRAD_CLONES void sumRows(const T* x, int64_t outer, int64_t n, int64_t inner, int64_t columns, T* values) {
  constexpr int64_t kBlock = 512;
  double acc[kBlock];
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i0 = 0; i0 < columns; i0 += kBlock) {
      const int64_t width = std::min(kBlock, columns - i0);
      std::fill(acc, acc + width, 0.0);
      for (int64_t j = 0; j < n; ++j) {
        const T* row = x + (o * n + j) * inner + i0;
        for (int64_t i = 0; i < width; ++i) acc[i] += static_cast<double>(row[i]);
      }
      for (int64_t i = 0; i < width; ++i) values[o * inner + i0 + i] = static_cast<T>(acc[i]);
    }
  }
}

// Outputs [0, outer) x [0, columns) of a [outer, n, inner] reduction (columns <= inner).
template <typename T>
void reduceRange(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, int64_t columns, T* values,
                 int32_t* indices) {
  if (op == ReduceOp::Sum && inner > 1) {
    sumRows(x, outer, n, inner, columns, values);
    return;
  }
  for (int64_t o = 0; o < outer; ++o) {
    const T* base = x + o * n * inner;
    for (int64_t i = 0; i < columns; ++i) {
      const T* p = base + i;
      const int64_t outIndex = o * inner + i;
      switch (op) {
        case ReduceOp::Sum: {
          double acc = 0;
          for (int64_t j = 0; j < n; ++j) acc += static_cast<double>(p[j * inner]);
          values[outIndex] = static_cast<T>(acc);
          break;
        }
        case ReduceOp::Max:
        case ReduceOp::Min: {
          const bool isMax = op == ReduceOp::Max;
          T best = p[0];
          int64_t bestIndex = 0;
          for (int64_t j = 1; j < n; ++j) {
            const T v = p[j * inner];
            if (std::isnan(best)) break;  // NaN wins, as in PyTorch
            if (std::isnan(v) || (isMax ? v > best : v < best)) {
              best = v;
              bestIndex = j;
            }
          }
          if (values) values[outIndex] = best;
          if (indices) indices[outIndex] = static_cast<int32_t>(bestIndex);
          break;
        }
        case ReduceOp::LogSumExp: {
          // Subtracting the max keeps every exp() in [0, 1]: no overflow for huge inputs. A NaN
          // becomes the max, so [inf, NaN] gives NaN as in PyTorch, not inf.
          T m = -std::numeric_limits<T>::infinity();
          for (int64_t j = 0; j < n; ++j) m = (p[j * inner] > m || std::isnan(p[j * inner])) ? p[j * inner] : m;
          if (!std::isfinite(m)) {
            values[outIndex] = m;
            break;
          }
          double acc = 0;
          for (int64_t j = 0; j < n; ++j) acc += std::exp(static_cast<double>(p[j * inner] - m));
          values[outIndex] = static_cast<T>(static_cast<double>(m) + std::log(acc));
          break;
        }
        case ReduceOp::Count:
          break;
      }
    }
  }
}

}  // namespace

// Large reductions split over the pool by outer index, or by column when there is one outer row;
// each output is still computed by one thread in the serial order.
template <typename T>
void reduce(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, T* values, int32_t* indices) {
  const double work = static_cast<double>(outer) * n * inner;
  if (work < 65536 || numThreads() == 1 || (outer == 1 && inner == 1)) {
    reduceRange(op, x, outer, n, inner, inner, values, indices);
  } else if (outer > 1) {
    parallelRange(outer, work, [&](int64_t begin, int64_t end) {
      reduceRange(op, x + begin * n * inner, end - begin, n, inner, inner, values ? values + begin * inner : nullptr,
                  indices ? indices + begin * inner : nullptr);
    });
  } else {
    parallelRange(inner, work, [&](int64_t begin, int64_t end) {
      reduceRange(op, x + begin, 1, n, inner, end - begin, values ? values + begin : nullptr,
                  indices ? indices + begin : nullptr);
    });
  }
}

template void reduce<float>(ReduceOp, const float*, int64_t, int64_t, int64_t, float*, int32_t*);
template void reduce<double>(ReduceOp, const double*, int64_t, int64_t, int64_t, double*, int32_t*);
template void reduce<int32_t>(ReduceOp, const int32_t*, int64_t, int64_t, int64_t, int32_t*, int32_t*);

}  // namespace nodegrad
