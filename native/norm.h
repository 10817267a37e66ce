// Row normalization kernels (LayerNorm, RMSNorm; GroupNorm and InstanceNorm reshape to rows):
// each of `rows` contiguous rows of `cols` elements is normalized on its own.
#pragma once
#include <cstdint>

namespace nodegrad {

// out = (x - mean) * rstd * weight + bias per row, rstd = 1 / sqrt(var + eps) with the biased
// variance; rms: mean is taken as 0 and var = mean(x^2) (RMSNorm). weight/bias may be null (over
// cols). mean (null for rms) and rstd receive each row's statistics, accumulated in double.
template <typename T>
void layerNormForward(const T* x, int64_t rows, int64_t cols, double eps, bool rms, const T* weight, const T* bias,
                      T* out, T* mean, T* rstd);

// Gradients of sum(out * grad) from the saved mean (null for rms) and rstd: gradInput, gradWeight
// and gradBias, each optional (null: not computed). gradWeight/gradBias are overwritten.
template <typename T>
void layerNormBackward(const T* x, const T* grad, int64_t rows, int64_t cols, bool rms, const T* weight, const T* mean,
                       const T* rstd, T* gradInput, T* gradWeight, T* gradBias);

}  // namespace nodegrad
