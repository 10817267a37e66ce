// Direct stride-1 convolution for few channels (conv_direct.h): pads the images, splits the batch
// over the pool and calls the AVX-512 kernels of conv_direct_avx512.cc; also the switch that turns
// the path off for comparisons and tests.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "conv_common.h"
#include "conv_direct.h"
#include "conv_strategies.h"
#include "thread_pool.h"

namespace nodegrad {
namespace conv {
namespace {

// AVX-512 CPUs run the direct kernels unless NODEGRAD_CONV_DIRECT=0 or setConvDirect(false) (for
// comparisons and for testing both paths).
std::atomic<bool>& directSwitch() {
  static std::atomic<bool> enabled{[] {
    const char* env = std::getenv("NODEGRAD_CONV_DIRECT");
    return !(env && env[0] == '0');
  }()};
  return enabled;
}

bool directAvailable() {
#if defined(__x86_64__)
  static const bool available = convDirectAvailable();
  return available;
#else
  return false;
#endif
}

}  // namespace

bool directEnabled() { return directAvailable() && directSwitch().load(std::memory_order_relaxed); }

#if defined(__x86_64__)
namespace {

// Stride-1 convolution of every image of one group through the direct kernel: input images of
// [cin][h][w] (imageStride apart), padding (top, left) on both sides, weight [cout][cin * kh * kw].
void directConvImages(int64_t batch, const float* input, int64_t inImageStride, int64_t cin, int64_t h, int64_t w,
                      int64_t top, int64_t left, int64_t kh, int64_t kw, const float* weight, int64_t cout,
                      const float* bias, bool relu, float* out, int64_t outImageStride) {
  const int64_t pw = w + 2 * left, ph = h + 2 * top, outH = ph - kh + 1, outW = pw - kw + 1;
  const int64_t plane = ph * pw, positions = roundUp(outH * pw, kDirectLanes);
  const int64_t taps = cin * kh * kw, xLength = cin * plane + positions + kDirectSlack;
  const std::vector<int64_t> offsets = tapOffsets(cin, kh, kw, plane, pw, taps);
  parallelFor(batch, [&](int64_t n) {
    auto* x = threadScratch<float>(xLength + cout * positions);
    float* flat = x + xLength;
    padImage(input + n * inImageStride, cin, h, w, top, left, x, xLength);
    convDirectForward_f32_avx512(x, offsets.data(), taps, weight, cout, positions, flat, positions);
    keepOutputs(static_cast<const float*>(flat), cout, positions, outH, outW, pw, bias, relu, out + n * outImageStride,
                outH * outW);
  });
}

}  // namespace

void directForward(const Conv2dShape& s, const float* input, const float* weight, const float* bias, float* out,
                   bool relu) {
  const ConvDims d = dimsOf(s);
  for (int64_t g = 0; g < s.groups; ++g)
    directConvImages(s.batch, input + g * d.cinG * d.inPlane, s.inChannels * d.inPlane, d.cinG, s.inH, s.inW, s.padH,
                     s.padW, s.kernelH, s.kernelW, weight + g * d.coutG * d.k, d.coutG,
                     bias ? bias + g * d.coutG : nullptr, relu, out + g * d.coutG * d.plane, s.outChannels * d.plane);
}

// The input gradient of a stride-1 convolution is a stride-1 convolution of the output gradient,
// padded by (kernel - 1 - padding), with the kernel flipped and its in/out channels swapped.
void directBackwardInput(const Conv2dShape& s, const float* gradOut, const float* weight, float* gradInput) {
  const ConvDims d = dimsOf(s);
  const int64_t top = s.kernelH - 1 - s.padH, left = s.kernelW - 1 - s.padW;
  // Per thread and kept between calls (as threadScratch): a fresh buffer per call faults its pages anew.
  thread_local std::vector<float> flipped;
  for (int64_t g = 0; g < s.groups; ++g) {
    flipWeight(s, d, weight, g, flipped);
    directConvImages(s.batch, gradOut + g * d.coutG * d.plane, s.outChannels * d.plane, d.coutG, s.outH, s.outW, top,
                     left, s.kernelH, s.kernelW, flipped.data(), d.cinG, nullptr, false,
                     gradInput + g * d.cinG * d.inPlane, s.inChannels * d.inPlane);
  }
}

// Weight gradient: each thread takes a contiguous share of the images, pads them and lays their
// output gradients out on the flattened planes (zeros at the discarded positions), a few images at
// a time, and accumulates its own [cout][taps] sums; the shares are added at the end.
void directBackwardWeight(const Conv2dShape& s, const float* input, const float* gradOut, float* gradWeight) {
  const ConvDims d = dimsOf(s);
  const int64_t pw = s.inW + 2 * s.padW, ph = s.inH + 2 * s.padH;
  const int64_t plane = ph * pw, positions = roundUp(s.outH * pw, kDirectLanes);
  const int64_t taps = d.k, tapsPadded = roundUp(taps, kDirectGradTaps);
  const int64_t channels = roundUp(d.coutG, kDirectGradChannels);
  const int64_t xLength = d.cinG * plane + positions + kDirectSlack, gLength = channels * positions;
  const std::vector<int64_t> offsets = tapOffsets(d.cinG, s.kernelH, s.kernelW, plane, pw, tapsPadded);
  constexpr int64_t kImagesAtOnce = 8;
  const int64_t shares = std::min<int64_t>(numThreads(), s.batch);
  // Per thread and kept between calls (as threadScratch): a fresh buffer per call faults its pages anew.
  thread_local std::vector<float> sums;
  sums.resize(static_cast<size_t>(shares * channels * tapsPadded));
  float* const shareSums = sums.data();  // the lambdas run on pool threads: not their own thread_local
  for (int64_t g = 0; g < s.groups; ++g) {
    std::fill(shareSums, shareSums + sums.size(), 0.0f);
    parallelFor(shares, [&](int64_t share) {
      const int64_t begin = s.batch * share / shares, end = s.batch * (share + 1) / shares;
      auto* buffers = threadScratch<float>(kImagesAtOnce * (xLength + gLength));
      const float* xs[kImagesAtOnce];
      const float* gs[kImagesAtOnce];
      for (int64_t n0 = begin; n0 < end; n0 += kImagesAtOnce) {
        const int64_t count = std::min(kImagesAtOnce, end - n0);
        for (int64_t i = 0; i < count; ++i) {
          float* x = buffers + i * (xLength + gLength);
          float* gv = x + xLength;
          const int64_t n = n0 + i;
          padImage(input + n * s.inChannels * d.inPlane + g * d.cinG * d.inPlane, d.cinG, s.inH, s.inW, s.padH, s.padW,
                   x, xLength);
          // Output gradient rows at the kept positions of the flattened planes, zeros elsewhere.
          std::fill(gv, gv + gLength, 0.0f);
          for (int64_t c = 0; c < d.coutG; ++c)
            for (int64_t y = 0; y < s.outH; ++y)
              std::memcpy(gv + c * positions + y * pw,
                          gradOut + n * s.outChannels * d.plane + (g * d.coutG + c) * d.plane + y * s.outW,
                          sizeof(float) * s.outW);
          xs[i] = x;
          gs[i] = gv;
        }
        convDirectWeightGrad_f32_avx512(xs, gs, count, offsets.data(), tapsPadded, channels, positions, positions,
                                        shareSums + share * channels * tapsPadded);
      }
    });
    for (int64_t c = 0; c < d.coutG; ++c)
      for (int64_t r = 0; r < taps; ++r) {
        float total = 0;
        for (int64_t share = 0; share < shares; ++share) total += shareSums[(share * channels + c) * tapsPadded + r];
        gradWeight[(g * d.coutG + c) * taps + r] = total;
      }
  }
}

#endif  // __x86_64__

}  // namespace conv

bool setConvDirect(bool enabled) {
  const bool before = conv::directEnabled();
  conv::directSwitch().store(enabled);
  return before;
}

bool convDirectActive() { return conv::directEnabled(); }

}  // namespace nodegrad
