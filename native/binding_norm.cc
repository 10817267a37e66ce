// N-API glue for the row-normalization kernels (LayerNorm, RMSNorm). Every buffer is bound with
// the length rows x cols (or rows, or cols) implies, so a short buffer is refused before any write.
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

}  // namespace

void registerNormFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("layerNormForward", Napi::Function::New(env, LayerNormForward, "layerNormForward"));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward, "layerNormBackward"));
}

}  // namespace nodegrad::glue
