// N-API glue for the network kernels: convolution, pooling, softmax and cross-entropy. Parameter
// objects are read by field name; output sizes are recomputed here (PyTorch's formulas), so a
// caller that allocated too little is refused before any kernel writes. Empty work (a zero
// dimension) never reaches a kernel: outputs are filled as the semantics require.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "glue.h"
#include "kernels.h"

namespace nodegrad::glue {
namespace {

// Reads the sliding-window fields Conv2dParams and Pool2dParams share (Window2dParams in TS).
template <typename Shape>
void readWindow(const Args& args, const Napi::Object& p, Shape& s) {
  s.inH = args.integer(p, "inH");
  s.inW = args.integer(p, "inW");
  s.kernelH = args.integer(p, "kernelH");
  s.kernelW = args.integer(p, "kernelW");
  s.strideH = args.integer(p, "strideH");
  s.strideW = args.integer(p, "strideW");
  s.padH = args.integer(p, "padH");
  s.padW = args.integer(p, "padW");
  s.dilationH = args.integer(p, "dilationH");
  s.dilationW = args.integer(p, "dilationW");
}

// Reads a Conv2dParams object by field name and validates it.
Conv2dShape convShape(const Args& args, size_t i) {
  const Napi::Object p = args.object(args.at(i), "params");
  Conv2dShape s;
  s.batch = args.integer(p, "batch");
  s.inChannels = args.integer(p, "inChannels");
  s.outChannels = args.integer(p, "outChannels");
  readWindow(args, p, s);
  s.groups = args.integer(p, "groups");
  if (s.kernelH < 1 || s.kernelW < 1) args.fail("kernel size must be >= 1");
  if (s.strideH < 1 || s.strideW < 1)
    args.fail("stride must be >= 1, got " + std::to_string(std::min(s.strideH, s.strideW)));
  if (s.dilationH < 1 || s.dilationW < 1) args.fail("dilation must be >= 1");
  if (s.groups < 1 || s.inChannels % s.groups != 0 || s.outChannels % s.groups != 0)
    args.fail("groups " + std::to_string(s.groups) + " must divide in channels " + std::to_string(s.inChannels) +
              " and out channels " + std::to_string(s.outChannels));
  const int64_t effH = checkedAdd(checkedMul(s.dilationH, s.kernelH - 1), 1);
  const int64_t effW = checkedAdd(checkedMul(s.dilationW, s.kernelW - 1), 1);
  const int64_t paddedH = checkedAdd(s.inH, checkedMul(2, s.padH)), paddedW = checkedAdd(s.inW, checkedMul(2, s.padW));
  if (paddedH < effH || paddedW < effW)
    args.fail("input " + std::to_string(s.inH) + "x" + std::to_string(s.inW) + " (padded by " + std::to_string(s.padH) +
              "," + std::to_string(s.padW) + ") is smaller than the kernel " + std::to_string(effH) + "x" +
              std::to_string(effW));
  s.outH = (paddedH - effH) / s.strideH + 1;
  s.outW = (paddedW - effW) / s.strideW + 1;
  return s;
}

struct ConvSizes {
  int64_t input, weight, output;
  // Some work dimension is 0: the kernels are skipped and the outputs filled directly.
  bool empty() const { return input == 0 || weight == 0 || output == 0; }
};

ConvSizes convSizes(const Conv2dShape& s) {
  return {checkedMul(checkedMul(s.batch, s.inChannels), checkedMul(s.inH, s.inW)),
          checkedMul(checkedMul(s.outChannels, s.inChannels / s.groups), checkedMul(s.kernelH, s.kernelW)),
          checkedMul(checkedMul(s.batch, s.outChannels), checkedMul(s.outH, s.outW))};
}

// conv2dForward(params, input, weight, bias | null, out, relu)
Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native conv2dForward", [&](Args& args) {
    const Conv2dShape s = convShape(args, 0);
    const ArrayRef input = args.array(1, "input"), weight = args.array(2, "weight");
    const std::optional<ArrayRef> bias = args.optionalArray(3, "bias");
    const ArrayRef out = args.array(4, "output");
    const bool relu = args.flag(args.at(5));
    args.sameType(input, weight);
    args.sameType(input, out);
    if (bias) args.sameType(input, *bias);
    const ConvSizes n = convSizes(s);
    dispatchFloat(args, input, [&](auto tag) {
      using T = decltype(tag);
      const T* x = args.bind(input, n.input).as<T>();
      const T* w = args.bind(weight, n.weight).as<T>();
      const T* b = args.bindOptional<T>(bias, s.outChannels);
      T* y = args.bind(out, n.output).as<T>();
      args.run([=] {
        if (!n.empty()) return conv2dForward(s, x, w, b, y, relu);
        // No input channels or taps: every output is its channel's bias (or 0).
        const int64_t plane = s.outH * s.outW;
        for (int64_t i = 0; i < n.output; ++i) {
          const T v = b ? b[(i / plane) % s.outChannels] : T(0);
          y[i] = relu && !(v > T(0)) && !std::isnan(v) ? T(0) : v;
        }
      });
    });
    return args.env().Undefined();
  });
}

// conv2dBackwardInput(params, gradOut, weight, gradInput)
Napi::Value Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  return guarded(info, "native conv2dBackwardInput", [&](Args& args) {
    const Conv2dShape s = convShape(args, 0);
    const ArrayRef gradOut = args.array(1, "gradOut"), weight = args.array(2, "weight"),
                   gradInput = args.array(3, "gradInput");
    args.sameType(gradInput, weight);
    args.sameType(gradInput, gradOut);
    const ConvSizes n = convSizes(s);
    dispatchFloat(args, gradInput, [&](auto tag) {
      using T = decltype(tag);
      const T* go = args.bind(gradOut, n.output).as<T>();
      const T* w = args.bind(weight, n.weight).as<T>();
      T* gi = args.bind(gradInput, n.input).as<T>();
      if (n.empty())
        std::fill(gi, gi + n.input, T(0));
      else
        conv2dBackwardInput(s, go, w, gi);
    });
    return args.env().Undefined();
  });
}

// conv2dBackwardWeight(params, input, gradOut, gradWeight, gradBias | null)
Napi::Value Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  return guarded(info, "native conv2dBackwardWeight", [&](Args& args) {
    const Conv2dShape s = convShape(args, 0);
    const ArrayRef input = args.array(1, "input"), gradOut = args.array(2, "gradOut"),
                   gradWeight = args.array(3, "gradWeight");
    const std::optional<ArrayRef> gradBias = args.optionalArray(4, "gradBias");
    args.sameType(input, gradWeight);
    args.sameType(input, gradOut);
    if (gradBias) args.sameType(input, *gradBias);
    const ConvSizes n = convSizes(s);
    dispatchFloat(args, input, [&](auto tag) {
      using T = decltype(tag);
      const T* x = args.bind(input, n.input).as<T>();
      const T* go = args.bind(gradOut, n.output).as<T>();
      T* gw = args.bind(gradWeight, n.weight).as<T>();
      T* gb = args.bindOptional<T>(gradBias, s.outChannels);
      if (!n.empty()) return conv2dBackwardWeight(s, x, go, gw, gb);
      std::fill(gw, gw + n.weight, T(0));
      if (!gb) return;
      // gradBias sums gradOut over batch and positions even when the input is empty.
      const int64_t plane = s.outH * s.outW;
      std::fill(gb, gb + s.outChannels, T(0));
      for (int64_t i = 0; i < n.output; ++i) gb[(i / plane) % s.outChannels] += go[i];
    });
    return args.env().Undefined();
  });
}

int64_t poolOutput(const Args& args, int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                   bool ceil) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  if (span < 0) args.fail("input size " + std::to_string(in) + " is smaller than the kernel " + std::to_string(kernel));
  int64_t out = (span + (ceil ? stride - 1 : 0)) / stride + 1;
  // The last window must start inside the input or its left padding (PyTorch's rule).
  if (ceil && (out - 1) * stride >= in + pad) --out;
  return out;
}

// Reads a Pool2dParams object by field name and validates it.
Pool2dShape poolShape(const Args& args, size_t i, bool isMax) {
  const Napi::Object p = args.object(args.at(i), "params");
  Pool2dShape s;
  s.planes = args.integer(p, "planes");
  readWindow(args, p, s);
  const bool ceilMode = args.flag(p, "ceilMode");
  s.countIncludePad = args.flag(p, "countIncludePad");
  s.divisorOverride = args.integer(p, "divisorOverride");
  if (s.kernelH < 1 || s.kernelW < 1) args.fail("kernel size must be >= 1");
  if (s.strideH < 1 || s.strideW < 1) args.fail("stride must be >= 1");
  if (s.dilationH < 1 || s.dilationW < 1) args.fail("dilation must be >= 1");
  if (!isMax && (s.dilationH != 1 || s.dilationW != 1)) args.fail("average pooling has no dilation");
  const int64_t effH = checkedAdd(checkedMul(s.dilationH, s.kernelH - 1), 1);
  const int64_t effW = checkedAdd(checkedMul(s.dilationW, s.kernelW - 1), 1);
  if (checkedMul(2, s.padH) > effH || checkedMul(2, s.padW) > effW)
    args.fail("padding " + std::to_string(std::max(s.padH, s.padW)) + " must be at most half of the kernel size");
  s.outH = poolOutput(args, s.inH, s.kernelH, s.strideH, s.padH, s.dilationH, ceilMode);
  s.outW = poolOutput(args, s.inW, s.kernelW, s.strideW, s.padW, s.dilationW, ceilMode);
  return s;
}

int64_t poolInputSize(const Pool2dShape& s) { return checkedMul(s.planes, checkedMul(s.inH, s.inW)); }
int64_t poolOutputSize(const Pool2dShape& s) { return checkedMul(s.planes, checkedMul(s.outH, s.outW)); }

// maxPool2dForward(params, input, out, indices)
Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native maxPool2dForward", [&](Args& args) {
    const Pool2dShape s = poolShape(args, 0, true);
    const ArrayRef input = args.array(1, "input"), out = args.array(2, "out"), indices = args.array(3, "indices");
    args.sameType(input, out);
    args.requireInt32(indices);
    dispatchFloat(args, input, [&](auto tag) {
      using T = decltype(tag);
      const T* x = args.bind(input, poolInputSize(s)).as<T>();
      T* y = args.bind(out, poolOutputSize(s)).as<T>();
      auto* ix = args.bind(indices, poolOutputSize(s)).as<int32_t>();
      if (poolOutputSize(s) > 0) args.run([=] { maxPool2dForward(s, x, y, ix); });
    });
    return args.env().Undefined();
  });
}

// maxPool2dBackward(params, gradOut, indices, gradInput)
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "native maxPool2dBackward", [&](Args& args) {
    const Pool2dShape s = poolShape(args, 0, true);
    const ArrayRef gradOut = args.array(1, "gradOut"), indices = args.array(2, "indices"),
                   gradInput = args.array(3, "gradInput");
    args.sameType(gradOut, gradInput);
    args.requireInt32(indices);
    dispatchFloat(args, gradOut, [&](auto tag) {
      using T = decltype(tag);
      const int64_t outSize = poolOutputSize(s), inSize = poolInputSize(s);
      const T* go = args.bind(gradOut, outSize).as<T>();
      const int32_t* ix = args.bind(indices, outSize).as<int32_t>();
      T* gi = args.bind(gradInput, inSize).as<T>();
      for (int64_t i = 0; i < outSize; ++i)
        if (ix[i] < 0 || ix[i] >= s.inH * s.inW)
          args.fail("index " + std::to_string(ix[i]) + " is outside the input plane");
      if (outSize > 0)
        maxPool2dBackward(s, go, ix, gi);
      else
        std::fill(gi, gi + inSize, T(0));
    });
    return args.env().Undefined();
  });
}

// avgPool2dForward(params, input, out) and avgPool2dBackward(params, gradOut, gradInput)
Napi::Value AvgPool2d(const Napi::CallbackInfo& info, bool backward) {
  return guardedKernel(info, backward ? "native avgPool2dBackward" : "native avgPool2dForward", [&](Args& args) {
    const Pool2dShape s = poolShape(args, 0, false);
    const ArrayRef from = args.array(1, backward ? "gradOut" : "input"),
                   to = args.array(2, backward ? "gradInput" : "out");
    args.sameType(from, to);
    dispatchFloat(args, from, [&](auto tag) {
      using T = decltype(tag);
      const int64_t inSize = poolInputSize(s), outSize = poolOutputSize(s);
      const T* a = args.bind(from, backward ? outSize : inSize).as<T>();
      T* b = args.bind(to, backward ? inSize : outSize).as<T>();
      args.run([=] {
        if (outSize == 0)
          std::fill(b, b + (backward ? inSize : outSize), T(0));
        else if (backward)
          avgPool2dBackward(s, a, b);
        else
          avgPool2dForward(s, a, b);
      });
    });
    return args.env().Undefined();
  });
}

// adaptiveAvgPool2d{Forward,Backward}(params, src, dst) with params {planes, inH, inW, outH, outW}.
Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info, bool backward) {
  return guardedKernel(
      info, backward ? "native adaptiveAvgPool2dBackward" : "native adaptiveAvgPool2dForward", [&](Args& args) {
        const Napi::Object p = args.object(args.at(0), "params");
        const int64_t planes = args.integer(p, "planes"), inH = args.integer(p, "inH"), inW = args.integer(p, "inW");
        const int64_t outH = args.integer(p, "outH"), outW = args.integer(p, "outW");
        const ArrayRef from = args.array(1, backward ? "gradOut" : "input"),
                       to = args.array(2, backward ? "gradInput" : "out");
        if (outH < 1 || outW < 1) args.fail("output size must be >= 1");
        if (inH < 1 || inW < 1) args.fail("input size must be >= 1");
        args.sameType(from, to);
        const int64_t inSize = checkedMul(planes, checkedMul(inH, inW)),
                      outSize = checkedMul(planes, checkedMul(outH, outW));
        dispatchFloat(args, from, [&](auto tag) {
          using T = decltype(tag);
          const T* a = args.bind(from, backward ? outSize : inSize).as<T>();
          T* b = args.bind(to, backward ? inSize : outSize).as<T>();
          args.run([=] {
            if (backward)
              adaptiveAvgPool2dBackward(planes, inH, inW, outH, outW, a, b);
            else
              adaptiveAvgPool2dForward(planes, inH, inW, outH, outW, a, b);
          });
        });
        return args.env().Undefined();
      });
}

// softmax(x, outer, n, inner, out, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native softmax", [&](Args& args) {
    const ArrayRef x = args.array(0, "x");
    const int64_t outer = args.integer(1, "outer"), n = args.integer(2, "n"), inner = args.integer(3, "inner");
    const ArrayRef out = args.array(4, "out");
    const bool log = args.flag(args.at(5));
    args.sameType(x, out);
    const int64_t size = checkedMul(checkedMul(outer, n), inner);
    dispatchFloat(args, x, [&](auto tag) {
      using T = decltype(tag);
      const T* px = args.bind(x, size).as<T>();
      T* po = args.bind(out, size).as<T>();
      if (size > 0) args.run([=] { softmax(px, outer, n, inner, po, log); });
    });
    return args.env().Undefined();
  });
}

// softmaxBackward(y, g, outer, n, inner, gx, log)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "native softmaxBackward", [&](Args& args) {
    const ArrayRef y = args.array(0, "y"), g = args.array(1, "g");
    const int64_t outer = args.integer(2, "outer"), n = args.integer(3, "n"), inner = args.integer(4, "inner");
    const ArrayRef gx = args.array(5, "gx");
    const bool log = args.flag(args.at(6));
    args.sameType(y, g);
    args.sameType(y, gx);
    const int64_t size = checkedMul(checkedMul(outer, n), inner);
    dispatchFloat(args, y, [&](auto tag) {
      using T = decltype(tag);
      const T* py = args.bind(y, size).as<T>();
      const T* pg = args.bind(g, size).as<T>();
      T* pgx = args.bind(gx, size).as<T>();
      if (size > 0) softmaxBackward(py, pg, outer, n, inner, pgx, log);
    });
    return args.env().Undefined();
  });
}

// crossEntropy(params, logits, target, weight | null, loss, grad | null) with params a
// CrossEntropyParams object {n, classes, ignoreIndex, labelSmoothing}.
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  return guarded(info, "native crossEntropy", [&](Args& args) {
    const Napi::Object p = args.object(args.at(0), "params");
    const int64_t n = args.integer(p, "n"), classes = args.integer(p, "classes");
    const double ignoreIndex = args.number(p, "ignoreIndex"), smoothing = args.number(p, "labelSmoothing");
    const ArrayRef logits = args.array(1, "logits"), target = args.array(2, "target");
    const std::optional<ArrayRef> weight = args.optionalArray(3, "weight");
    const ArrayRef loss = args.array(4, "loss");
    const std::optional<ArrayRef> grad = args.optionalArray(5, "grad");
    args.sameType(logits, loss);
    if (weight) args.sameType(logits, *weight);
    if (grad) args.sameType(logits, *grad);
    args.requireInt32(target);
    if (classes < 1) args.fail("classes must be >= 1");
    if (!(smoothing >= 0 && smoothing <= 1)) args.fail("labelSmoothing must be in [0, 1]");
    if (ignoreIndex != std::floor(ignoreIndex) || std::abs(ignoreIndex) > 9.0e15)
      args.fail("ignoreIndex must be an integer");
    const int64_t size = checkedMul(n, classes);
    dispatchFloat(args, logits, [&](auto tag) {
      using T = decltype(tag);
      const T* x = args.bind(logits, size).as<T>();
      const int32_t* t = args.bind(target, n).as<int32_t>();
      const T* w = args.bindOptional<T>(weight, classes);
      T* l = args.bind(loss, n).as<T>();
      T* gr = args.bindOptional<T>(grad, size);
      if (n == 0) return;  // no rows: nothing to compute and nothing to allocate, whatever `classes` is
      for (int64_t i = 0; i < n; ++i)
        if (t[i] != ignoreIndex && (t[i] < 0 || t[i] >= classes))
          args.fail("target " + std::to_string(t[i]) + " at row " + std::to_string(i) + " is out of range for " +
                    std::to_string(classes) + " classes");
      crossEntropy(x, n, classes, t, w, static_cast<int64_t>(ignoreIndex), smoothing, l, gr);
    });
    return args.env().Undefined();
  });
}

}  // namespace

void registerNnFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New(env, Conv2dForward, "conv2dForward"));
  exports.Set("conv2dBackwardInput", Napi::Function::New(env, Conv2dBackwardInput, "conv2dBackwardInput"));
  exports.Set("conv2dBackwardWeight", Napi::Function::New(env, Conv2dBackwardWeight, "conv2dBackwardWeight"));
  exports.Set("maxPool2dForward", Napi::Function::New(env, MaxPool2dForward, "maxPool2dForward"));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward, "maxPool2dBackward"));
  exports.Set("avgPool2dForward",
              Napi::Function::New(
                  env, [](const Napi::CallbackInfo& i) { return AvgPool2d(i, false); }, "avgPool2dForward"));
  exports.Set("avgPool2dBackward",
              Napi::Function::New(
                  env, [](const Napi::CallbackInfo& i) { return AvgPool2d(i, true); }, "avgPool2dBackward"));
  exports.Set(
      "adaptiveAvgPool2dForward",
      Napi::Function::New(
          env, [](const Napi::CallbackInfo& i) { return AdaptiveAvgPool2d(i, false); }, "adaptiveAvgPool2dForward"));
  exports.Set(
      "adaptiveAvgPool2dBackward",
      Napi::Function::New(
          env, [](const Napi::CallbackInfo& i) { return AdaptiveAvgPool2d(i, true); }, "adaptiveAvgPool2dBackward"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward, "softmaxBackward"));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
}

}  // namespace nodegrad::glue
