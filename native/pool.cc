// 2-D pooling over NCHW planes (batch * channels of them), split over the thread pool by plane.
// Max pooling keeps the flat index of each window's max so backward needs no input.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

template <typename Fn>
void forEachPlane(const Pool2dShape& s, Fn fn) {
  const double work = static_cast<double>(s.planes) * s.outH * s.outW * s.kernelH * s.kernelW;
  parallelRange(s.planes, work, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) fn(p);
  });
}

// PyTorch's average-pool divisor: the window clipped to the padded input, or to the input itself.
int64_t avgDivisor(const Pool2dShape& s, int64_t oh, int64_t ow) {
  if (s.divisorOverride > 0) return s.divisorOverride;
  int64_t h0 = oh * s.strideH - s.padH, w0 = ow * s.strideW - s.padW;
  int64_t h1 = std::min(h0 + s.kernelH, s.inH + s.padH), w1 = std::min(w0 + s.kernelW, s.inW + s.padW);
  if (s.countIncludePad) return (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, s.inH);
  w1 = std::min(w1, s.inW);
  return std::max<int64_t>((h1 - h0) * (w1 - w0), 1);
}

bool isPlain2x2(const Pool2dShape& s) {
  return s.kernelH == 2 && s.kernelW == 2 && s.strideH == 2 && s.strideW == 2 && s.padH == 0 && s.padW == 0 &&
         s.dilationH == 1 && s.dilationW == 1 && 2 * s.outH <= s.inH && 2 * s.outW <= s.inW;
}

// Keeps (best, at) or takes (v, pos): v wins if strictly larger or if it is NaN, PyTorch's rule
// (the first max wins ties, the last NaN wins the index). Integer masks instead of a branch: a
// compare-and-branch on random data mispredicts about half the time.
template <typename T>
inline void selectIfBetter(T v, int32_t pos, T& best, int32_t& at) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const bool take = (v > best) | (v != v);
  const int32_t mask = -static_cast<int32_t>(take);
  at = (pos & mask) | (at & ~mask);
  Bits vb, bb;
  std::memcpy(&vb, &v, sizeof(T));
  std::memcpy(&bb, &best, sizeof(T));
  const Bits m = static_cast<Bits>(-static_cast<std::make_signed_t<Bits>>(take));
  const Bits r = (vb & m) | (bb & ~m);
  std::memcpy(&best, &r, sizeof(T));
}

// One output row of 2x2 windows over input rows r0 and r1 with the full NaN rule, scalar. Inlined
// into each per-ISA copy of maxPool2x2 (as a separate baseline function it ran 2-3x slower).
template <typename T>
__attribute__((always_inline)) inline void maxPoolRowPair(const T* r0, const T* r1, int64_t outW, int32_t base,
                                                          int32_t inW, T* orow, int32_t* irow) {
  for (int64_t ow = 0; ow < outW; ++ow) {
    const int32_t first = base + 2 * static_cast<int32_t>(ow);
    T best = r0[2 * ow];
    int32_t at = first;
    selectIfBetter(r0[2 * ow + 1], first + 1, best, at);
    selectIfBetter(r1[2 * ow], first + inW, best, at);
    selectIfBetter(r1[2 * ow + 1], first + inW + 1, best, at);
    orow[ow] = best;
    irow[ow] = at;
  }
}

// Output rows at least this wide run the vector loops; shorter ones (LeNet's 14 and 5) the scalar ones.
constexpr int64_t kVectorRow = 16;

// The common 2x2, stride-2, unpadded window (LeNet, VGG): no bounds checks, one pass per row pair.
// On wide rows the loop compares with > only and selects, so it vectorizes; it also notes whether
// the rows held a NaN, and only then is the row pair redone with the NaN rule.
template <typename T>
NODEGRAD_CLONES void maxPool2x2(const Pool2dShape& s, const T* in, T* o, int32_t* idx) {
  const auto inW = static_cast<int32_t>(s.inW);
  for (int64_t oh = 0; oh < s.outH; ++oh) {
    const T* __restrict r0 = in + 2 * oh * s.inW;
    const T* __restrict r1 = r0 + s.inW;
    T* __restrict orow = o + oh * s.outW;
    int32_t* __restrict irow = idx + oh * s.outW;
    const int32_t base = static_cast<int32_t>(2 * oh) * inW;
    if (s.outW < kVectorRow) {
      maxPoolRowPair(r0, r1, s.outW, base, inW, orow, irow);
      continue;
    }
    int nan = 0;
    for (int64_t ow = 0; ow < s.outW; ++ow) {
      // Window order (0,0) (0,1) (1,0) (1,1).
      const T a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
      nan |= (a != a) | (b != b) | (c != c) | (d != d);
      const int32_t first = base + 2 * static_cast<int32_t>(ow);
      T best = a;
      int32_t at = first;
      bool take = b > best;
      best = take ? b : best;
      at = take ? first + 1 : at;
      take = c > best;
      best = take ? c : best;
      at = take ? first + inW : at;
      take = d > best;
      best = take ? d : best;
      at = take ? first + inW + 1 : at;
      orow[ow] = best;
      irow[ow] = at;
    }
    if (nan) maxPoolRowPair(r0, r1, s.outW, base, inW, orow, irow);
  }
}

// Backward of the plain 2x2 window: every input element belongs to at most one window, so on wide
// rows each is written once (the gradient or 0) by a vector loop instead of zero-filling the plane
// and scattering into it.
template <typename T>
NODEGRAD_CLONES void maxPool2x2Backward(const Pool2dShape& s, const T* go, const int32_t* idx, T* gi) {
  if (s.outW < kVectorRow || 2 * s.outH != s.inH || 2 * s.outW != s.inW) std::fill(gi, gi + s.inH * s.inW, T(0));
  if (s.outW < kVectorRow) {
    for (int64_t o = 0; o < s.outH * s.outW; ++o) gi[idx[o]] += go[o];
    return;
  }
  const auto inW = static_cast<int32_t>(s.inW);
  for (int64_t oh = 0; oh < s.outH; ++oh) {
    T* __restrict r0 = gi + 2 * oh * s.inW;
    T* __restrict r1 = r0 + s.inW;
    const T* __restrict grow = go + oh * s.outW;
    const int32_t* __restrict irow = idx + oh * s.outW;
    const int32_t base = static_cast<int32_t>(2 * oh) * inW;
    for (int64_t ow = 0; ow < s.outW; ++ow) {
      const int32_t at = irow[ow] - base - 2 * static_cast<int32_t>(ow);
      const T g = grow[ow];
      r0[2 * ow] = at == 0 ? g : T(0);
      r0[2 * ow + 1] = at == 1 ? g : T(0);
      r1[2 * ow] = at == inW ? g : T(0);
      r1[2 * ow + 1] = at == inW + 1 ? g : T(0);
    }
  }
}

}  // namespace

template <typename T>
void maxPool2dForward(const Pool2dShape& s, const T* input, T* out, int32_t* indices) {
  const bool fast = isPlain2x2(s);
  forEachPlane(s, [&](int64_t p) {
    if (fast) {
      maxPool2x2(s, input + p * s.inH * s.inW, out + p * s.outH * s.outW, indices + p * s.outH * s.outW);
      return;
    }
    const T* in = input + p * s.inH * s.inW;
    T* o = out + p * s.outH * s.outW;
    int32_t* idx = indices + p * s.outH * s.outW;
    for (int64_t oh = 0; oh < s.outH; ++oh) {
      for (int64_t ow = 0; ow < s.outW; ++ow) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t bestAt = -1;
        for (int64_t i = 0; i < s.kernelH; ++i) {
          const int64_t ih = oh * s.strideH - s.padH + i * s.dilationH;
          if (ih < 0 || ih >= s.inH) continue;
          for (int64_t j = 0; j < s.kernelW; ++j) {
            const int64_t iw = ow * s.strideW - s.padW + j * s.dilationW;
            if (iw < 0 || iw >= s.inW) continue;
            const T v = in[ih * s.inW + iw];
            // The first max wins on ties; NaN propagates and the last NaN's index is kept, as in PyTorch.
            if (bestAt < 0 || v > best || std::isnan(v)) {
              best = v;
              bestAt = ih * s.inW + iw;
            }
          }
        }
        o[oh * s.outW + ow] = best;
        idx[oh * s.outW + ow] = static_cast<int32_t>(bestAt < 0 ? 0 : bestAt);
      }
    }
  });
}

template <typename T>
void maxPool2dBackward(const Pool2dShape& s, const T* gradOut, const int32_t* indices, T* gradInput) {
  const bool fast = isPlain2x2(s);
  forEachPlane(s, [&](int64_t p) {
    T* gi = gradInput + p * s.inH * s.inW;
    const T* go = gradOut + p * s.outH * s.outW;
    const int32_t* idx = indices + p * s.outH * s.outW;
    if (fast) {
      maxPool2x2Backward(s, go, idx, gi);
      return;
    }
    std::fill(gi, gi + s.inH * s.inW, T(0));
    for (int64_t o = 0; o < s.outH * s.outW; ++o) gi[idx[o]] += go[o];
  });
}

template <typename T>
void avgPool2dForward(const Pool2dShape& s, const T* input, T* out) {
  forEachPlane(s, [&](int64_t p) {
    const T* in = input + p * s.inH * s.inW;
    T* o = out + p * s.outH * s.outW;
    for (int64_t oh = 0; oh < s.outH; ++oh) {
      for (int64_t ow = 0; ow < s.outW; ++ow) {
        T acc = 0;
        for (int64_t i = 0; i < s.kernelH; ++i) {
          const int64_t ih = oh * s.strideH - s.padH + i;
          if (ih < 0 || ih >= s.inH) continue;
          for (int64_t j = 0; j < s.kernelW; ++j) {
            const int64_t iw = ow * s.strideW - s.padW + j;
            if (iw >= 0 && iw < s.inW) acc += in[ih * s.inW + iw];
          }
        }
        o[oh * s.outW + ow] = acc / static_cast<T>(avgDivisor(s, oh, ow));
      }
    }
  });
}

template <typename T>
void avgPool2dBackward(const Pool2dShape& s, const T* gradOut, T* gradInput) {
  forEachPlane(s, [&](int64_t p) {
    T* gi = gradInput + p * s.inH * s.inW;
    std::fill(gi, gi + s.inH * s.inW, T(0));
    const T* go = gradOut + p * s.outH * s.outW;
    for (int64_t oh = 0; oh < s.outH; ++oh) {
      for (int64_t ow = 0; ow < s.outW; ++ow) {
        const T g = go[oh * s.outW + ow] / static_cast<T>(avgDivisor(s, oh, ow));
        for (int64_t i = 0; i < s.kernelH; ++i) {
          const int64_t ih = oh * s.strideH - s.padH + i;
          if (ih < 0 || ih >= s.inH) continue;
          for (int64_t j = 0; j < s.kernelW; ++j) {
            const int64_t iw = ow * s.strideW - s.padW + j;
            if (iw >= 0 && iw < s.inW) gi[ih * s.inW + iw] += g;
          }
        }
      }
    }
  });
}

template <typename T>
void adaptiveAvgPool2dForward(int64_t planes, int64_t inH, int64_t inW, int64_t outH, int64_t outW, const T* input,
                              T* out) {
  parallelRange(planes, static_cast<double>(planes) * inH * inW, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const T* in = input + p * inH * inW;
      T* o = out + p * outH * outW;
      for (int64_t oh = 0; oh < outH; ++oh) {
        const int64_t h0 = oh * inH / outH, h1 = ((oh + 1) * inH + outH - 1) / outH;
        for (int64_t ow = 0; ow < outW; ++ow) {
          const int64_t w0 = ow * inW / outW, w1 = ((ow + 1) * inW + outW - 1) / outW;
          T acc = 0;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) acc += in[h * inW + w];
          o[oh * outW + ow] = acc / static_cast<T>((h1 - h0) * (w1 - w0));
        }
      }
    }
  });
}

template <typename T>
void adaptiveAvgPool2dBackward(int64_t planes, int64_t inH, int64_t inW, int64_t outH, int64_t outW, const T* gradOut,
                               T* gradInput) {
  parallelRange(planes, static_cast<double>(planes) * inH * inW, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      T* gi = gradInput + p * inH * inW;
      std::fill(gi, gi + inH * inW, T(0));
      const T* go = gradOut + p * outH * outW;
      for (int64_t oh = 0; oh < outH; ++oh) {
        const int64_t h0 = oh * inH / outH, h1 = ((oh + 1) * inH + outH - 1) / outH;
        for (int64_t ow = 0; ow < outW; ++ow) {
          const int64_t w0 = ow * inW / outW, w1 = ((ow + 1) * inW + outW - 1) / outW;
          const T g = go[oh * outW + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) gi[h * inW + w] += g;
        }
      }
    }
  });
}

// NOLINTBEGIN(bugprone-macro-parentheses): T is a type, which cannot be parenthesized.
#define NODEGRAD_INSTANTIATE_POOL(T)                                                                    \
  template void maxPool2dForward<T>(const Pool2dShape&, const T*, T*, int32_t*);                        \
  template void maxPool2dBackward<T>(const Pool2dShape&, const T*, const int32_t*, T*);                 \
  template void avgPool2dForward<T>(const Pool2dShape&, const T*, T*);                                  \
  template void avgPool2dBackward<T>(const Pool2dShape&, const T*, T*);                                 \
  template void adaptiveAvgPool2dForward<T>(int64_t, int64_t, int64_t, int64_t, int64_t, const T*, T*); \
  template void adaptiveAvgPool2dBackward<T>(int64_t, int64_t, int64_t, int64_t, int64_t, const T*, T*);
// NOLINTEND(bugprone-macro-parentheses)
NODEGRAD_INSTANTIATE_POOL(float)
NODEGRAD_INSTANTIATE_POOL(double)

}  // namespace nodegrad
