// Direct stride-1 convolution kernels for layers with few channels (LeNet's 1->6 and 6->16), where
// im2col + GEMM spends as long building columns as multiplying them and a 6- or 16-row GEMM fills
// a 12-row micro-kernel badly.
//
// The "flattened plane" view: with the input zero-padded into planes of pw = inW + 2*padW columns,
// output position q = oh * pw + ow reads input q + i * pw + j for tap (i, j), so each tap is one
// unit-stride shift of the whole plane and every output plane is a single long vector loop. The
// positions with ow >= outW are computed and discarded (forward), or multiplied by a zero gradient
// (weight gradient). Buffers carry zero slack so the last vector may run past the plane.
//
// The kernels here are compiled for AVX-512 only (conv_direct_avx512.cc); conv_direct.cc prepares
// the padded buffers, splits the batch over the pool, and calls them when the CPU has AVX-512.
#pragma once
#include <cstdint>

namespace nodegrad {

// Positions per vector: the kernels take a multiple of kDirectLanes positions; buffers carry
// kDirectSlack zeros past their last plane.
constexpr int64_t kDirectLanes = 16;
constexpr int64_t kDirectSlack = 64;
// Output channels and taps per weight-gradient block: callers round both up (zero rows / offset 0).
constexpr int64_t kDirectGradChannels = 4;
constexpr int64_t kDirectGradTaps = 6;

// out[c][q] = sum_r w[c * taps + r] * x[offsets[r] + q] for c < channels, q < positions (a multiple
// of kDirectLanes). out rows are ldo apart.
void convDirectForward_f32_avx512(const float* x, const int64_t* offsets, int64_t taps, const float* w,
                                  int64_t channels, int64_t positions, float* out, int64_t ldo);

// dw[c * taps + r] += sum_img sum_q g[img][c * ldg + q] * x[img][offsets[r] + q], for c < channels
// (a multiple of kDirectGradChannels), r < taps (a multiple of kDirectGradTaps), q < positions (a
// multiple of kDirectLanes).
void convDirectWeightGrad_f32_avx512(const float* const* x, const float* const* g, int64_t images,
                                     const int64_t* offsets, int64_t taps, int64_t channels, int64_t ldg,
                                     int64_t positions, float* dw);

// Whether this process may call the kernels above (x86-64 build on a CPU with AVX-512F).
bool convDirectAvailable();

}  // namespace nodegrad
