// N-API glue for the network kernels: convolution, pooling, softmax and cross-entropy. Output
// sizes are recomputed here from the parameters (PyTorch's formulas), so a caller that allocated
// too little is refused before any kernel writes.
#include <napi.h>

#include <cstdint>
#include <string>

#include "glue.h"
#include "kernels.h"

namespace nodegrad::glue {
namespace {

template <typename T>
T* ptr(const Buffer& b) {
  return static_cast<T*>(b.data);
}

// Reads [batch, inC, inH, inW, outC, kH, kW, sH, sW, pH, pW, dH, dW, groups] and validates it.
Conv2dShape convShape(const Napi::CallbackInfo& info, size_t i, const std::string& k) {
  const std::vector<int64_t> v = intList(info, i, k, "params");
  if (v.size() != 14) fail(k, "params must have 14 entries, got " + std::to_string(v.size()));
  Conv2dShape s;
  s.batch = v[0]; s.inChannels = v[1]; s.inH = v[2]; s.inW = v[3];
  s.outChannels = v[4]; s.kernelH = v[5]; s.kernelW = v[6];
  s.strideH = v[7]; s.strideW = v[8]; s.padH = v[9]; s.padW = v[10];
  s.dilationH = v[11]; s.dilationW = v[12]; s.groups = v[13];
  if (s.kernelH < 1 || s.kernelW < 1) fail(k, "kernel size must be >= 1");
  if (s.strideH < 1 || s.strideW < 1) fail(k, "stride must be >= 1, got " + std::to_string(std::min(s.strideH, s.strideW)));
  if (s.dilationH < 1 || s.dilationW < 1) fail(k, "dilation must be >= 1");
  if (s.groups < 1 || s.inChannels % s.groups != 0 || s.outChannels % s.groups != 0)
    fail(k, "groups " + std::to_string(s.groups) + " must divide in channels " + std::to_string(s.inChannels) +
                " and out channels " + std::to_string(s.outChannels));
  const int64_t effH = s.dilationH * (s.kernelH - 1) + 1, effW = s.dilationW * (s.kernelW - 1) + 1;
  if (s.inH + 2 * s.padH < effH || s.inW + 2 * s.padW < effW)
    fail(k, "input " + std::to_string(s.inH) + "x" + std::to_string(s.inW) + " (padded by " + std::to_string(s.padH) +
                "," + std::to_string(s.padW) + ") is smaller than the kernel " + std::to_string(effH) + "x" + std::to_string(effW));
  s.outH = (s.inH + 2 * s.padH - effH) / s.strideH + 1;
  s.outW = (s.inW + 2 * s.padW - effW) / s.strideW + 1;
  return s;
}

void checkConvBuffers(const std::string& k, const Conv2dShape& s, const Buffer& input, const Buffer& weight,
                      const Buffer& out) {
  requireFloat(k, input, "input");
  sameType(k, input, weight, "input", "weight");
  sameType(k, input, out, "input", "output");
  requireLength(k, input, checkedMul(checkedMul(s.batch, s.inChannels), checkedMul(s.inH, s.inW)), "input");
  requireLength(k, weight, checkedMul(checkedMul(s.outChannels, s.inChannels / s.groups), checkedMul(s.kernelH, s.kernelW)), "weight");
  requireLength(k, out, checkedMul(checkedMul(s.batch, s.outChannels), checkedMul(s.outH, s.outW)), "output");
}

bool present(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() && !info[i].IsNull() && !info[i].IsUndefined();
}

// conv2dForward(params, input, weight, bias | null, out, relu)
Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native conv2dForward";
    const Conv2dShape s = convShape(info, 0, k);
    const Buffer input = buffer(info, 1, k, "input"), weight = buffer(info, 2, k, "weight");
    const Buffer out = buffer(info, 4, k, "out");
    checkConvBuffers(k, s, input, weight, out);
    void* bias = nullptr;
    if (present(info, 3)) {
      const Buffer b = buffer(info, 3, k, "bias");
      sameType(k, input, b, "input", "bias");
      requireLength(k, b, s.outChannels, "bias");
      bias = b.data;
    }
    const bool relu = info.Length() > 5 && info[5].ToBoolean();
    if (input.type == napi_float32_array)
      conv2dForward(s, ptr<float>(input), ptr<float>(weight), static_cast<float*>(bias), ptr<float>(out), relu);
    else
      conv2dForward(s, ptr<double>(input), ptr<double>(weight), static_cast<double*>(bias), ptr<double>(out), relu);
    return info.Env().Undefined();
  });
}

// conv2dBackwardInput(params, gradOut, weight, gradInput)
Napi::Value Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native conv2dBackwardInput";
    const Conv2dShape s = convShape(info, 0, k);
    const Buffer gradOut = buffer(info, 1, k, "gradOut"), weight = buffer(info, 2, k, "weight");
    const Buffer gradInput = buffer(info, 3, k, "gradInput");
    checkConvBuffers(k, s, gradInput, weight, gradOut);
    if (gradOut.type == napi_float32_array)
      conv2dBackwardInput(s, ptr<float>(gradOut), ptr<float>(weight), ptr<float>(gradInput));
    else
      conv2dBackwardInput(s, ptr<double>(gradOut), ptr<double>(weight), ptr<double>(gradInput));
    return info.Env().Undefined();
  });
}

// conv2dBackwardWeight(params, input, gradOut, gradWeight, gradBias | null)
Napi::Value Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native conv2dBackwardWeight";
    const Conv2dShape s = convShape(info, 0, k);
    const Buffer input = buffer(info, 1, k, "input"), gradOut = buffer(info, 2, k, "gradOut");
    const Buffer gradWeight = buffer(info, 3, k, "gradWeight");
    checkConvBuffers(k, s, input, gradWeight, gradOut);
    void* gradBias = nullptr;
    if (present(info, 4)) {
      const Buffer b = buffer(info, 4, k, "gradBias");
      sameType(k, input, b, "input", "gradBias");
      requireLength(k, b, s.outChannels, "gradBias");
      gradBias = b.data;
    }
    if (input.type == napi_float32_array)
      conv2dBackwardWeight(s, ptr<float>(input), ptr<float>(gradOut), ptr<float>(gradWeight), static_cast<float*>(gradBias));
    else
      conv2dBackwardWeight(s, ptr<double>(input), ptr<double>(gradOut), ptr<double>(gradWeight), static_cast<double*>(gradBias));
    return info.Env().Undefined();
  });
}

int64_t poolOutput(const std::string& k, int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  if (span < 0) fail(k, "input size " + std::to_string(in) + " is smaller than the kernel " + std::to_string(kernel));
  int64_t out = (span + (ceil ? stride - 1 : 0)) / stride + 1;
  // The last window must start inside the input or its left padding (PyTorch's rule).
  if (ceil && (out - 1) * stride >= in + pad) --out;
  return out;
}

// Reads [planes, inH, inW, kH, kW, sH, sW, pH, pW, dH, dW, ceilMode, countIncludePad, divisorOverride].
Pool2dShape poolShape(const Napi::CallbackInfo& info, size_t i, const std::string& k, bool isMax) {
  const std::vector<int64_t> v = intList(info, i, k, "params");
  if (v.size() != 14) fail(k, "params must have 14 entries, got " + std::to_string(v.size()));
  Pool2dShape s;
  s.planes = v[0]; s.inH = v[1]; s.inW = v[2]; s.kernelH = v[3]; s.kernelW = v[4];
  s.strideH = v[5]; s.strideW = v[6]; s.padH = v[7]; s.padW = v[8]; s.dilationH = v[9]; s.dilationW = v[10];
  s.countIncludePad = v[12] != 0;
  s.divisorOverride = v[13];
  if (s.kernelH < 1 || s.kernelW < 1) fail(k, "kernel size must be >= 1");
  if (s.strideH < 1 || s.strideW < 1) fail(k, "stride must be >= 1");
  if (s.dilationH < 1 || s.dilationW < 1) fail(k, "dilation must be >= 1");
  if (!isMax && (s.dilationH != 1 || s.dilationW != 1)) fail(k, "average pooling has no dilation");
  const int64_t effH = s.dilationH * (s.kernelH - 1) + 1, effW = s.dilationW * (s.kernelW - 1) + 1;
  if (2 * s.padH > effH || 2 * s.padW > effW)
    fail(k, "padding " + std::to_string(std::max(s.padH, s.padW)) + " must be at most half of the kernel size");
  s.outH = poolOutput(k, s.inH, s.kernelH, s.strideH, s.padH, s.dilationH, v[11] != 0);
  s.outW = poolOutput(k, s.inW, s.kernelW, s.strideW, s.padW, s.dilationW, v[11] != 0);
  return s;
}

// maxPool2dForward(params, input, out, indices)
Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native maxPool2dForward";
    const Pool2dShape s = poolShape(info, 0, k, true);
    const Buffer input = buffer(info, 1, k, "input"), out = buffer(info, 2, k, "out"), idx = buffer(info, 3, k, "indices");
    requireFloat(k, input, "input");
    sameType(k, input, out, "input", "out");
    if (idx.type != napi_int32_array) fail(k, "indices must be an Int32Array");
    requireLength(k, input, checkedMul(s.planes, checkedMul(s.inH, s.inW)), "input");
    const int64_t outSize = checkedMul(s.planes, checkedMul(s.outH, s.outW));
    requireLength(k, out, outSize, "out");
    requireLength(k, idx, outSize, "indices");
    if (input.type == napi_float32_array) maxPool2dForward(s, ptr<float>(input), ptr<float>(out), ptr<int32_t>(idx));
    else maxPool2dForward(s, ptr<double>(input), ptr<double>(out), ptr<int32_t>(idx));
    return info.Env().Undefined();
  });
}

// maxPool2dBackward(params, gradOut, indices, gradInput)
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native maxPool2dBackward";
    const Pool2dShape s = poolShape(info, 0, k, true);
    const Buffer go = buffer(info, 1, k, "gradOut"), idx = buffer(info, 2, k, "indices"), gi = buffer(info, 3, k, "gradInput");
    requireFloat(k, go, "gradOut");
    sameType(k, go, gi, "gradOut", "gradInput");
    if (idx.type != napi_int32_array) fail(k, "indices must be an Int32Array");
    const int64_t outSize = checkedMul(s.planes, checkedMul(s.outH, s.outW));
    requireLength(k, go, outSize, "gradOut");
    requireLength(k, idx, outSize, "indices");
    requireLength(k, gi, checkedMul(s.planes, checkedMul(s.inH, s.inW)), "gradInput");
    const auto* ix = ptr<int32_t>(idx);
    for (int64_t i = 0; i < outSize; ++i)
      if (ix[i] < 0 || ix[i] >= s.inH * s.inW) fail(k, "index " + std::to_string(ix[i]) + " is outside the input plane");
    if (go.type == napi_float32_array) maxPool2dBackward(s, ptr<float>(go), ix, ptr<float>(gi));
    else maxPool2dBackward(s, ptr<double>(go), ix, ptr<double>(gi));
    return info.Env().Undefined();
  });
}

// avgPool2dForward(params, input, out) and avgPool2dBackward(params, gradOut, gradInput)
Napi::Value AvgPool2d(const Napi::CallbackInfo& info, bool backward) {
  return guarded(info, [&] {
    const std::string k = backward ? "native avgPool2dBackward" : "native avgPool2dForward";
    const Pool2dShape s = poolShape(info, 0, k, false);
    const Buffer a = buffer(info, 1, k, backward ? "gradOut" : "input"), b = buffer(info, 2, k, backward ? "gradInput" : "out");
    requireFloat(k, a, "first buffer");
    sameType(k, a, b, "first buffer", "second buffer");
    const int64_t inSize = checkedMul(s.planes, checkedMul(s.inH, s.inW));
    const int64_t outSize = checkedMul(s.planes, checkedMul(s.outH, s.outW));
    requireLength(k, a, backward ? outSize : inSize, backward ? "gradOut" : "input");
    requireLength(k, b, backward ? inSize : outSize, backward ? "gradInput" : "out");
    if (a.type == napi_float32_array) {
      if (backward) avgPool2dBackward(s, ptr<float>(a), ptr<float>(b));
      else avgPool2dForward(s, ptr<float>(a), ptr<float>(b));
    } else {
      if (backward) avgPool2dBackward(s, ptr<double>(a), ptr<double>(b));
      else avgPool2dForward(s, ptr<double>(a), ptr<double>(b));
    }
    return info.Env().Undefined();
  });
}

// adaptiveAvgPool2d{Forward,Backward}(planes, inH, inW, outH, outW, src, dst)
Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info, bool backward) {
  return guarded(info, [&] {
    const std::string k = backward ? "native adaptiveAvgPool2dBackward" : "native adaptiveAvgPool2dForward";
    const int64_t planes = integer(info, 0, k, "planes"), inH = integer(info, 1, k, "inH"), inW = integer(info, 2, k, "inW");
    const int64_t outH = integer(info, 3, k, "outH"), outW = integer(info, 4, k, "outW");
    if (outH < 1 || outW < 1) fail(k, "output size must be >= 1");
    if (inH < 1 || inW < 1) fail(k, "input size must be >= 1");
    const Buffer a = buffer(info, 5, k, "src"), b = buffer(info, 6, k, "dst");
    requireFloat(k, a, "src");
    sameType(k, a, b, "src", "dst");
    const int64_t inSize = checkedMul(planes, checkedMul(inH, inW)), outSize = checkedMul(planes, checkedMul(outH, outW));
    requireLength(k, a, backward ? outSize : inSize, "src");
    requireLength(k, b, backward ? inSize : outSize, "dst");
    if (a.type == napi_float32_array) {
      if (backward) adaptiveAvgPool2dBackward(planes, inH, inW, outH, outW, ptr<float>(a), ptr<float>(b));
      else adaptiveAvgPool2dForward(planes, inH, inW, outH, outW, ptr<float>(a), ptr<float>(b));
    } else {
      if (backward) adaptiveAvgPool2dBackward(planes, inH, inW, outH, outW, ptr<double>(a), ptr<double>(b));
      else adaptiveAvgPool2dForward(planes, inH, inW, outH, outW, ptr<double>(a), ptr<double>(b));
    }
    return info.Env().Undefined();
  });
}

// softmax(x, outer, n, inner, out, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native softmax";
    const Buffer x = buffer(info, 0, k, "x");
    const int64_t outer = integer(info, 1, k, "outer"), n = integer(info, 2, k, "n"), inner = integer(info, 3, k, "inner");
    const Buffer out = buffer(info, 4, k, "out");
    const bool log = info.Length() > 5 && info[5].ToBoolean();
    requireFloat(k, x, "x");
    sameType(k, x, out, "x", "out");
    const int64_t size = checkedMul(checkedMul(outer, n), inner);
    requireLength(k, x, size, "x");
    requireLength(k, out, size, "out");
    if (x.type == napi_float32_array) softmax(ptr<float>(x), outer, n, inner, ptr<float>(out), log);
    else softmax(ptr<double>(x), outer, n, inner, ptr<double>(out), log);
    return info.Env().Undefined();
  });
}

// softmaxBackward(y, g, outer, n, inner, gx, log)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native softmaxBackward";
    const Buffer y = buffer(info, 0, k, "y"), g = buffer(info, 1, k, "g");
    const int64_t outer = integer(info, 2, k, "outer"), n = integer(info, 3, k, "n"), inner = integer(info, 4, k, "inner");
    const Buffer gx = buffer(info, 5, k, "gx");
    const bool log = info.Length() > 6 && info[6].ToBoolean();
    requireFloat(k, y, "y");
    sameType(k, y, g, "y", "g");
    sameType(k, y, gx, "y", "gx");
    const int64_t size = checkedMul(checkedMul(outer, n), inner);
    requireLength(k, y, size, "y");
    requireLength(k, g, size, "g");
    requireLength(k, gx, size, "gx");
    if (y.type == napi_float32_array) softmaxBackward(ptr<float>(y), ptr<float>(g), outer, n, inner, ptr<float>(gx), log);
    else softmaxBackward(ptr<double>(y), ptr<double>(g), outer, n, inner, ptr<double>(gx), log);
    return info.Env().Undefined();
  });
}

// crossEntropy(logits, n, classes, target, weight | null, ignoreIndex, labelSmoothing, loss, grad | null)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native crossEntropy";
    const Buffer logits = buffer(info, 0, k, "logits");
    const int64_t n = integer(info, 1, k, "n"), classes = integer(info, 2, k, "classes");
    const Buffer target = buffer(info, 3, k, "target");
    const double ignoreIndex = number(info, 5, k, "ignoreIndex");
    const double smoothing = number(info, 6, k, "labelSmoothing");
    const Buffer loss = buffer(info, 7, k, "loss");
    requireFloat(k, logits, "logits");
    sameType(k, logits, loss, "logits", "loss");
    if (classes < 1) fail(k, "classes must be >= 1");
    if (target.type != napi_int32_array) fail(k, "target must be an Int32Array");
    if (!(smoothing >= 0 && smoothing <= 1)) fail(k, "labelSmoothing must be in [0, 1]");
    if (ignoreIndex != std::floor(ignoreIndex)) fail(k, "ignoreIndex must be an integer");
    requireLength(k, logits, checkedMul(n, classes), "logits");
    requireLength(k, target, n, "target");
    requireLength(k, loss, n, "loss");
    const auto* t = ptr<int32_t>(target);
    for (int64_t i = 0; i < n; ++i)
      if (t[i] != ignoreIndex && (t[i] < 0 || t[i] >= classes))
        fail(k, "target " + std::to_string(t[i]) + " at row " + std::to_string(i) + " is out of range for " + std::to_string(classes) + " classes");
    void* weight = nullptr;
    if (present(info, 4)) {
      const Buffer w = buffer(info, 4, k, "weight");
      sameType(k, logits, w, "logits", "weight");
      requireLength(k, w, classes, "weight");
      weight = w.data;
    }
    void* grad = nullptr;
    if (present(info, 8)) {
      const Buffer g = buffer(info, 8, k, "grad");
      sameType(k, logits, g, "logits", "grad");
      requireLength(k, g, checkedMul(n, classes), "grad");
      grad = g.data;
    }
    const auto ignore = static_cast<int64_t>(ignoreIndex);
    if (logits.type == napi_float32_array)
      crossEntropy(ptr<float>(logits), n, classes, t, static_cast<float*>(weight), ignore, smoothing, ptr<float>(loss), static_cast<float*>(grad));
    else
      crossEntropy(ptr<double>(logits), n, classes, t, static_cast<double*>(weight), ignore, smoothing, ptr<double>(loss), static_cast<double*>(grad));
    return info.Env().Undefined();
  });
}

}  // namespace

void registerNnFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New(env, Conv2dForward, "conv2dForward"));
  exports.Set("conv2dBackwardInput", Napi::Function::New(env, Conv2dBackwardInput, "conv2dBackwardInput"));
  exports.Set("conv2dBackwardWeight", Napi::Function::New(env, Conv2dBackwardWeight, "conv2dBackwardWeight"));
  exports.Set("maxPool2dForward", Napi::Function::New(env, MaxPool2dForward, "maxPool2dForward"));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward, "maxPool2dBackward"));
  exports.Set("avgPool2dForward", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return AvgPool2d(i, false); }, "avgPool2dForward"));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return AvgPool2d(i, true); }, "avgPool2dBackward"));
  exports.Set("adaptiveAvgPool2dForward", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return AdaptiveAvgPool2d(i, false); }, "adaptiveAvgPool2dForward"));
  exports.Set("adaptiveAvgPool2dBackward", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return AdaptiveAvgPool2d(i, true); }, "adaptiveAvgPool2dBackward"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward, "softmaxBackward"));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
}

}  // namespace nodegrad::glue
