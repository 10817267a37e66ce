// AVX-512 direct convolution kernels (see conv_direct.h): 16 float positions per zmm register,
// written with GCC vector extensions and register-blocked so the accumulators stay in the 32 zmm
// registers.
#include <cstring>

#include "conv_direct.h"

namespace nodegrad {
namespace {

using Vec = float __attribute__((vector_size(64)));

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }

// R output channels x V vectors (16V positions) per block: V input loads and R weight broadcasts
// feed R*V FMAs per tap. Positions [q0, q1) in whole blocks.
template <int R, int V>
void forwardBlocks(const float* x, const int64_t* offsets, int64_t taps, const float* w, int64_t q0, int64_t q1,
                   float* out, int64_t ldo) {
  for (int64_t q = q0; q < q1; q += V * kDirectLanes) {
    Vec acc[R][V];
#pragma GCC unroll 8
    for (int c = 0; c < R; ++c)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[c][v] = Vec{};
    for (int64_t r = 0; r < taps; ++r) {
      const float* xr = x + offsets[r] + q;
      Vec xv[V];
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) xv[v] = load(xr + v * kDirectLanes);
#pragma GCC unroll 8
      for (int c = 0; c < R; ++c) {
        const float wc = w[c * taps + r];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[c][v] += wc * xv[v];
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < R; ++c)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) store(out + c * ldo + q + v * kDirectLanes, acc[c][v]);
  }
}

// Blocks of 4 vectors, then the last 1-3 vectors as one narrower block.
template <int R>
void forwardChannels(const float* x, const int64_t* offsets, int64_t taps, const float* w, int64_t positions,
                     float* out, int64_t ldo) {
  constexpr int64_t kBlock = 4 * kDirectLanes;
  const int64_t whole = positions / kBlock * kBlock;
  forwardBlocks<R, 4>(x, offsets, taps, w, 0, whole, out, ldo);
  switch ((positions - whole) / kDirectLanes) {
    case 3:
      forwardBlocks<R, 3>(x, offsets, taps, w, whole, positions, out, ldo);
      break;
    case 2:
      forwardBlocks<R, 2>(x, offsets, taps, w, whole, positions, out, ldo);
      break;
    case 1:
      forwardBlocks<R, 1>(x, offsets, taps, w, whole, positions, out, ldo);
      break;
    default:
      break;
  }
}

// 4 output channels x 6 taps of accumulators over every position of every image, reduced once at
// the end: 4 gradient loads and 6 shifted input loads feed 24 FMAs per vector of positions.
void gradBlock(const float* const* x, const float* const* g, int64_t images, const int64_t* offsets, int64_t ldg,
               int64_t positions, float* dw, int64_t taps) {
  constexpr int C = kDirectGradChannels, T = kDirectGradTaps;
  Vec acc[C][T];
#pragma GCC unroll 4
  for (auto& row : acc)
#pragma GCC unroll 6
    for (Vec& v : row) v = Vec{};
  for (int64_t img = 0; img < images; ++img) {
    const float* gi = g[img];
    const float* xt[T];
#pragma GCC unroll 6
    for (int t = 0; t < T; ++t) xt[t] = x[img] + offsets[t];
    for (int64_t q = 0; q < positions; q += kDirectLanes) {
      Vec gv[C];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) gv[c] = load(gi + c * ldg + q);
#pragma GCC unroll 6
      for (int t = 0; t < T; ++t) {
        const Vec xv = load(xt[t] + q);
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) acc[c][t] += gv[c] * xv;
      }
    }
  }
  for (int c = 0; c < C; ++c)
    for (int t = 0; t < T; ++t) {
      float sum = 0;
      for (int l = 0; l < kDirectLanes; ++l) sum += acc[c][t][l];
      dw[c * taps + t] += sum;
    }
}

}  // namespace

void convDirectForward_f32_avx512(const float* x, const int64_t* offsets, int64_t taps, const float* w,
                                  int64_t channels, int64_t positions, float* out, int64_t ldo) {
  int64_t c = 0;
  for (; c + 6 <= channels; c += 6) forwardChannels<6>(x, offsets, taps, w + c * taps, positions, out + c * ldo, ldo);
  const float* wr = w + c * taps;
  float* o = out + c * ldo;
  switch (channels - c) {
    case 5:
      forwardChannels<5>(x, offsets, taps, wr, positions, o, ldo);
      break;
    case 4:
      forwardChannels<4>(x, offsets, taps, wr, positions, o, ldo);
      break;
    case 3:
      forwardChannels<3>(x, offsets, taps, wr, positions, o, ldo);
      break;
    case 2:
      forwardChannels<2>(x, offsets, taps, wr, positions, o, ldo);
      break;
    case 1:
      forwardChannels<1>(x, offsets, taps, wr, positions, o, ldo);
      break;
    default:
      break;
  }
}

void convDirectWeightGrad_f32_avx512(const float* const* x, const float* const* g, int64_t images,
                                     const int64_t* offsets, int64_t taps, int64_t channels, int64_t ldg,
                                     int64_t positions, float* dw) {
  constexpr int64_t kMaxImages = 64;
  const float* rows[kMaxImages];
  for (int64_t c = 0; c < channels; c += kDirectGradChannels) {
    for (int64_t i0 = 0; i0 < images; i0 += kMaxImages) {
      const int64_t n = images - i0 < kMaxImages ? images - i0 : kMaxImages;
      for (int64_t i = 0; i < n; ++i) rows[i] = g[i0 + i] + c * ldg;
      for (int64_t r = 0; r < taps; r += kDirectGradTaps)
        gradBlock(x + i0, rows, n, offsets + r, ldg, positions, dw + c * taps + r, taps);
    }
  }
}

bool convDirectAvailable() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

}  // namespace nodegrad
