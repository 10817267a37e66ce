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

namespace nodegrad {

// Batch norm over x [batch, channels, plane] (plane: the product of the dims after C).
struct BatchNormShape {
  int64_t batch, channels, plane;
  double eps;
  // Weight of this batch in the running statistics (training only).
  double momentum;
  // Batch statistics (and running-stat updates) when true; the running statistics when false.
  bool training;
  // max(y, 0) applied in the same pass (the ReLU after the layer).
  bool relu;
};

// out = (x - mean) * invstd * weight + bias per channel (then ReLU), weight/bias may be null. Training:
// mean and the biased variance from x, the running statistics (when not null) updated with momentum
// and the unbiased variance; otherwise mean and invstd from runningMean/runningVar. saveMean and
// saveInvstd [channels] receive what was used, for the backward.
template <typename T>
void batchNormForward(const BatchNormShape& s, const T* x, const T* weight, const T* bias, T* runningMean,
                      T* runningVar, T* out, T* saveMean, T* saveInvstd);

// Gradients of sum(out * grad) from the forward's saveMean and saveInvstd (and bias, which the ReLU
// mask is recomputed from): gradInput [batch, channels, plane], gradWeight and gradBias [channels],
// each optional (null: not computed). Without training, mean and invstd are constants.
template <typename T>
void batchNormBackward(const BatchNormShape& s, const T* x, const T* grad, const T* weight, const T* bias,
                       const T* mean, const T* invstd, T* gradInput, T* gradWeight, T* gradBias);

// out = max(a + b, 0) over n elements: a residual connection and the ReLU after it in one pass.
template <typename T>
void addRelu(const T* a, const T* b, T* out, int64_t n);

}  // namespace nodegrad
