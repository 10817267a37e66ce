// The convolution strategies, one file each; conv.cc's selection table says which runs when. Each
// entry point assumes its predicate in that table holds and the work is not empty (conv.cc answers
// empty convolutions itself).
#pragma once
#include "kernels.h"

namespace nodegrad::conv {

// conv_direct.cc: direct stride-1 kernels for few channels, float32 on AVX-512 CPUs (x86-64 builds).
bool directEnabled();
void directForward(const Conv2dShape& s, const float* input, const float* weight, const float* bias, float* out,
                   bool relu);
void directBackwardInput(const Conv2dShape& s, const float* gradOut, const float* weight, float* gradInput);
void directBackwardWeight(const Conv2dShape& s, const float* input, const float* gradOut, float* gradWeight);

// conv_implicit.cc: implicit GEMM over flattened padded planes (stride 1, no dilation).
template <typename T>
void implicitForward(const Conv2dShape& s, const T* input, const T* weight, const T* bias, T* out, bool relu);
template <typename T>
void implicitBackwardInput(const Conv2dShape& s, const T* gradOut, const T* weight, T* gradInput);

// conv_im2col.cc: im2col + GEMM for any geometry; a 1x1, stride-1, unpadded convolution reads its
// input as the column matrix (no copy).
template <typename T>
void im2colForward(const Conv2dShape& s, const T* input, const T* weight, const T* bias, T* out, bool relu);
template <typename T>
void im2colBackwardInput(const Conv2dShape& s, const T* gradOut, const T* weight, T* gradInput);
template <typename T>
void im2colBackwardWeight(const Conv2dShape& s, const T* input, const T* gradOut, T* gradWeight);

}  // namespace nodegrad::conv
