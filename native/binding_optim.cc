// N-API glue for the optimizer updates.
#include <napi.h>

#include <optional>
#include <string>

#include "glue.h"
#include "kernels.h"

namespace nodegrad::glue {
namespace {

// sgdStep(param, grad, momentumBuffer | null, params, firstStep) with params an SgdParams object;
// the update covers all of param.
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  return guarded(info, "native sgdStep", [&](Args& args) {
    const ArrayRef param = args.array(0, "param"), grad = args.array(1, "grad");
    const std::optional<ArrayRef> momentum = args.optionalArray(2, "momentumBuffer");
    const Napi::Object p = args.object(args.at(3), "params");
    SgdOptions o;
    o.lr = args.number(p, "lr");
    o.momentum = args.number(p, "momentum");
    o.dampening = args.number(p, "dampening");
    o.weightDecay = args.number(p, "weightDecay");
    o.nesterov = args.flag(p, "nesterov");
    o.maximize = args.flag(p, "maximize");
    const bool first = args.flag(args.at(4));
    args.sameType(param, grad);
    if (momentum) args.sameType(param, *momentum);
    dispatchFloat(args, param, [&](auto tag) {
      using T = decltype(tag);
      const Buffer w = args.bind(param);
      const T* g = args.bind(grad, w.length).as<T>();
      T* m = args.bindOptional<T>(momentum, w.length);
      sgdStep(w.as<T>(), g, m, w.length, o, first);
    });
    return args.env().Undefined();
  });
}

// adamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq | null, params, step) with params an
// AdamParams object; the update covers all of param.
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  return guarded(info, "native adamStep", [&](Args& args) {
    const ArrayRef param = args.array(0, "param"), grad = args.array(1, "grad");
    const ArrayRef expAvg = args.array(2, "expAvg"), expAvgSq = args.array(3, "expAvgSq");
    const std::optional<ArrayRef> maxExpAvgSq = args.optionalArray(4, "maxExpAvgSq");
    const Napi::Object p = args.object(args.at(5), "params");
    AdamOptions o;
    o.lr = args.number(p, "lr");
    o.beta1 = args.number(p, "beta1");
    o.beta2 = args.number(p, "beta2");
    o.eps = args.number(p, "eps");
    o.weightDecay = args.number(p, "weightDecay");
    o.decoupled = args.flag(p, "decoupled");
    o.maximize = args.flag(p, "maximize");
    const int64_t step = args.integer(6, "step");
    if (step < 1) args.fail("step must be >= 1");
    for (const ArrayRef& other : {grad, expAvg, expAvgSq}) args.sameType(param, other);
    if (maxExpAvgSq) args.sameType(param, *maxExpAvgSq);
    dispatchFloat(args, param, [&](auto tag) {
      using T = decltype(tag);
      const Buffer w = args.bind(param);
      const T* g = args.bind(grad, w.length).as<T>();
      T* m = args.bind(expAvg, w.length).as<T>();
      T* v = args.bind(expAvgSq, w.length).as<T>();
      T* vmax = args.bindOptional<T>(maxExpAvgSq, w.length);
      adamStep(w.as<T>(), g, m, v, vmax, w.length, o, step);
    });
    return args.env().Undefined();
  });
}

}  // namespace

void registerOptimFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep, "sgdStep"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
}

}  // namespace nodegrad::glue
