// N-API glue for the normalization kernels (LayerNorm, RMSNorm, batch norm) and the residual
// add + ReLU. Every buffer is bound with the length its shape implies, so a short buffer is refused
// before any write.
#include <napi.h>

#include <cmath>
#include <optional>

#include "glue.h"
#include "norm.h"

namespace nodegrad::glue {
namespace {

struct RowShape {
  int64_t rows, cols, size;
  double eps;
  bool rms;
};

// Reads a LayerNormParams object { rows, cols, eps, rms }.
RowShape rowShape(const Args& args) {
  const Napi::Object p = args.object(args.at(0), "params");
  RowShape s{};
  s.rows = args.integer(p, "rows");
  s.cols = args.integer(p, "cols");
  s.eps = args.number(p, "eps");
  s.rms = args.flag(p, "rms");
  if (!(s.eps >= 0) || !std::isfinite(s.eps)) args.fail("eps must be a finite number >= 0");
  s.size = checkedMul(s.rows, s.cols);
  return s;
}

// layerNormForward(params, x, weight | null, bias | null, out, mean | null, rstd)
Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native layerNormForward", [&](Args& args) {
    const RowShape s = rowShape(args);
    const ArrayRef x = args.array(1, "x");
    const std::optional<ArrayRef> weight = args.optionalArray(2, "weight"), bias = args.optionalArray(3, "bias");
    const ArrayRef out = args.array(4, "out");
    const std::optional<ArrayRef> mean = args.optionalArray(5, "mean");
    const ArrayRef rstd = args.array(6, "rstd");
    for (const auto* a : {&out, &rstd}) args.sameType(x, *a);
    for (const auto* a : {&weight, &bias, &mean})
      if (*a) args.sameType(x, **a);
    if (!s.rms && !mean) args.fail("mean is required unless rms");
    dispatchFloat(args, x, [&](auto tag) {
      using T = decltype(tag);
      const T* xp = args.bind(x, s.size).as<T>();
      const T* w = args.bindOptional<T>(weight, s.cols);
      const T* b = args.bindOptional<T>(bias, s.cols);
      T* o = args.bind(out, s.size).as<T>();
      T* m = args.bindOptional<T>(mean, s.rows);
      T* r = args.bind(rstd, s.rows).as<T>();
      args.run([=] { layerNormForward(xp, s.rows, s.cols, s.eps, s.rms, w, b, o, m, r); });
    });
    return args.env().Undefined();
  });
}

// layerNormBackward(params, x, grad, weight | null, mean | null, rstd, gradInput | null, gradWeight | null,
// gradBias | null)
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "native layerNormBackward", [&](Args& args) {
    const RowShape s = rowShape(args);
    const ArrayRef x = args.array(1, "x"), grad = args.array(2, "grad");
    const std::optional<ArrayRef> weight = args.optionalArray(3, "weight"), mean = args.optionalArray(4, "mean");
    const ArrayRef rstd = args.array(5, "rstd");
    const std::optional<ArrayRef> gradInput = args.optionalArray(6, "gradInput"),
                                  gradWeight = args.optionalArray(7, "gradWeight"),
                                  gradBias = args.optionalArray(8, "gradBias");
    args.sameType(x, grad);
    args.sameType(x, rstd);
    for (const auto* a : {&weight, &mean, &gradInput, &gradWeight, &gradBias})
      if (*a) args.sameType(x, **a);
    if (!s.rms && !mean) args.fail("mean is required unless rms");
    dispatchFloat(args, x, [&](auto tag) {
      using T = decltype(tag);
      const T* xp = args.bind(x, s.size).as<T>();
      const T* g = args.bind(grad, s.size).as<T>();
      const T* w = args.bindOptional<T>(weight, s.cols);
      const T* m = args.bindOptional<T>(mean, s.rows);
      const T* r = args.bind(rstd, s.rows).as<T>();
      T* gi = args.bindOptional<T>(gradInput, s.size);
      T* gw = args.bindOptional<T>(gradWeight, s.cols);
      T* gb = args.bindOptional<T>(gradBias, s.cols);
      layerNormBackward(xp, g, s.rows, s.cols, s.rms, w, m, r, gi, gw, gb);
    });
    return args.env().Undefined();
  });
}

// Reads a BatchNormParams object { batch, channels, plane, eps, momentum, training, relu }.
BatchNormShape batchNormShape(const Args& args) {
  const Napi::Object p = args.object(args.at(0), "params");
  BatchNormShape s{};
  s.batch = args.integer(p, "batch");
  s.channels = args.integer(p, "channels");
  s.plane = args.integer(p, "plane");
  s.eps = args.number(p, "eps");
  s.momentum = args.number(p, "momentum");
  s.training = args.flag(p, "training");
  s.relu = args.flag(p, "relu");
  if (!(s.eps >= 0) || !std::isfinite(s.eps)) args.fail("eps must be a finite number >= 0");
  if (!(s.momentum >= 0 && s.momentum <= 1)) args.fail("momentum must be in [0, 1]");
  checkedMul(checkedMul(s.batch, s.channels), s.plane);
  return s;
}

// batchNormForward(params, x, weight | null, bias | null, runningMean | null, runningVar | null, out, saveMean,
// saveInvstd)
Napi::Value BatchNormForward(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native batchNormForward", [&](Args& args) {
    const BatchNormShape s = batchNormShape(args);
    const ArrayRef x = args.array(1, "x");
    const std::optional<ArrayRef> weight = args.optionalArray(2, "weight"), bias = args.optionalArray(3, "bias"),
                                  runningMean = args.optionalArray(4, "runningMean"),
                                  runningVar = args.optionalArray(5, "runningVar");
    const ArrayRef out = args.array(6, "out"), saveMean = args.array(7, "saveMean"),
                   saveInvstd = args.array(8, "saveInvstd");
    for (const auto* a : {&out, &saveMean, &saveInvstd}) args.sameType(x, *a);
    for (const auto* a : {&weight, &bias, &runningMean, &runningVar})
      if (*a) args.sameType(x, **a);
    if (!s.training && !(runningMean && runningVar))
      args.fail("runningMean and runningVar are required unless training");
    const int64_t size = s.batch * s.channels * s.plane;
    dispatchFloat(args, x, [&](auto tag) {
      using T = decltype(tag);
      const T* xp = args.bind(x, size).as<T>();
      const T* w = args.bindOptional<T>(weight, s.channels);
      const T* b = args.bindOptional<T>(bias, s.channels);
      T* rm = args.bindOptional<T>(runningMean, s.channels);
      T* rv = args.bindOptional<T>(runningVar, s.channels);
      T* o = args.bind(out, size).as<T>();
      T* m = args.bind(saveMean, s.channels).as<T>();
      T* r = args.bind(saveInvstd, s.channels).as<T>();
      args.run([=] { batchNormForward(s, xp, w, b, rm, rv, o, m, r); });
    });
    return args.env().Undefined();
  });
}

// batchNormBackward(params, x, grad, weight | null, bias | null, saveMean, saveInvstd, gradInput | null,
// gradWeight | null, gradBias | null)
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native batchNormBackward", [&](Args& args) {
    const BatchNormShape s = batchNormShape(args);
    const ArrayRef x = args.array(1, "x"), grad = args.array(2, "grad");
    const std::optional<ArrayRef> weight = args.optionalArray(3, "weight"), bias = args.optionalArray(4, "bias");
    const ArrayRef saveMean = args.array(5, "saveMean"), saveInvstd = args.array(6, "saveInvstd");
    const std::optional<ArrayRef> gradInput = args.optionalArray(7, "gradInput"),
                                  gradWeight = args.optionalArray(8, "gradWeight"),
                                  gradBias = args.optionalArray(9, "gradBias");
    for (const auto* a : {&grad, &saveMean, &saveInvstd}) args.sameType(x, *a);
    for (const auto* a : {&weight, &bias, &gradInput, &gradWeight, &gradBias})
      if (*a) args.sameType(x, **a);
    const int64_t size = s.batch * s.channels * s.plane;
    dispatchFloat(args, x, [&](auto tag) {
      using T = decltype(tag);
      const T* xp = args.bind(x, size).as<T>();
      const T* g = args.bind(grad, size).as<T>();
      const T* w = args.bindOptional<T>(weight, s.channels);
      const T* b = args.bindOptional<T>(bias, s.channels);
      const T* m = args.bind(saveMean, s.channels).as<T>();
      const T* r = args.bind(saveInvstd, s.channels).as<T>();
      T* gi = args.bindOptional<T>(gradInput, size);
      T* gw = args.bindOptional<T>(gradWeight, s.channels);
      T* gb = args.bindOptional<T>(gradBias, s.channels);
      args.run([=] { batchNormBackward(s, xp, g, w, b, m, r, gi, gw, gb); });
    });
    return args.env().Undefined();
  });
}

// addRelu(n, a, b, out)
Napi::Value AddRelu(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native addRelu", [&](Args& args) {
    const int64_t n = args.integer(0, "n");
    const ArrayRef a = args.array(1, "a"), b = args.array(2, "b"), out = args.array(3, "out");
    args.sameType(a, b);
    args.sameType(a, out);
    dispatchFloat(args, a, [&](auto tag) {
      using T = decltype(tag);
      const T* ap = args.bind(a, n).as<T>();
      const T* bp = args.bind(b, n).as<T>();
      T* o = args.bind(out, n).as<T>();
      args.run([=] { addRelu(ap, bp, o, n); });
    });
    return args.env().Undefined();
  });
}

}  // namespace

void registerNormFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("layerNormForward", Napi::Function::New(env, LayerNormForward, "layerNormForward"));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward, "layerNormBackward"));
  exports.Set("batchNormForward", Napi::Function::New(env, BatchNormForward, "batchNormForward"));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward, "batchNormBackward"));
  exports.Set("addRelu", Napi::Function::New(env, AddRelu, "addRelu"));
}

}  // namespace nodegrad::glue
