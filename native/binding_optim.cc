// N-API glue for the optimizer updates.
#include <napi.h>

#include <string>

#include "glue.h"
#include "kernels.h"

namespace nodegrad::glue {
namespace {

// sgdStep(param, grad, momentumBuffer | null, n, lr, momentum, dampening, weightDecay, nesterov,
//         maximize, firstStep)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native sgdStep";
    const Buffer param = buffer(info, 0, k, "param"), grad = buffer(info, 1, k, "grad");
    requireFloat(k, param, "param");
    sameType(k, param, grad, "param", "grad");
    const int64_t n = integer(info, 3, k, "n");
    requireLength(k, param, n, "param");
    requireLength(k, grad, n, "grad");
    void* momentum = nullptr;
    if (!info[2].IsNull() && !info[2].IsUndefined()) {
      const Buffer m = buffer(info, 2, k, "momentumBuffer");
      sameType(k, param, m, "param", "momentumBuffer");
      requireLength(k, m, n, "momentumBuffer");
      momentum = m.data;
    }
    SgdOptions o;
    o.lr = number(info, 4, k, "lr");
    o.momentum = number(info, 5, k, "momentum");
    o.dampening = number(info, 6, k, "dampening");
    o.weightDecay = number(info, 7, k, "weightDecay");
    o.nesterov = info[8].ToBoolean();
    o.maximize = info[9].ToBoolean();
    const bool first = info[10].ToBoolean();
    if (param.type == napi_float32_array)
      sgdStep(static_cast<float*>(param.data), static_cast<float*>(grad.data), static_cast<float*>(momentum), n, o, first);
    else
      sgdStep(static_cast<double*>(param.data), static_cast<double*>(grad.data), static_cast<double*>(momentum), n, o, first);
    return info.Env().Undefined();
  });
}

// adamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq | null, n, lr, beta1, beta2, eps, weightDecay,
//          decoupled, maximize, step)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native adamStep";
    const Buffer param = buffer(info, 0, k, "param"), grad = buffer(info, 1, k, "grad");
    const Buffer m = buffer(info, 2, k, "expAvg"), v = buffer(info, 3, k, "expAvgSq");
    requireFloat(k, param, "param");
    sameType(k, param, grad, "param", "grad");
    sameType(k, param, m, "param", "expAvg");
    sameType(k, param, v, "param", "expAvgSq");
    const int64_t n = integer(info, 5, k, "n");
    for (const auto& [b, name] : {std::pair{param, "param"}, {grad, "grad"}, {m, "expAvg"}, {v, "expAvgSq"}})
      requireLength(k, b, n, name);
    void* vmax = nullptr;
    if (!info[4].IsNull() && !info[4].IsUndefined()) {
      const Buffer x = buffer(info, 4, k, "maxExpAvgSq");
      sameType(k, param, x, "param", "maxExpAvgSq");
      requireLength(k, x, n, "maxExpAvgSq");
      vmax = x.data;
    }
    AdamOptions o;
    o.lr = number(info, 6, k, "lr");
    o.beta1 = number(info, 7, k, "beta1");
    o.beta2 = number(info, 8, k, "beta2");
    o.eps = number(info, 9, k, "eps");
    o.weightDecay = number(info, 10, k, "weightDecay");
    o.decoupled = info[11].ToBoolean();
    o.maximize = info[12].ToBoolean();
    const int64_t step = integer(info, 13, k, "step");
    if (step < 1) fail(k, "step must be >= 1");
    if (param.type == napi_float32_array)
      adamStep(static_cast<float*>(param.data), static_cast<float*>(grad.data), static_cast<float*>(m.data),
               static_cast<float*>(v.data), static_cast<float*>(vmax), n, o, step);
    else
      adamStep(static_cast<double*>(param.data), static_cast<double*>(grad.data), static_cast<double*>(m.data),
               static_cast<double*>(v.data), static_cast<double*>(vmax), n, o, step);
    return info.Env().Undefined();
  });
}

}  // namespace

void registerOptimFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep, "sgdStep"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
}

}  // namespace nodegrad::glue
