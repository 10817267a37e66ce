// N-API glue for scaled dot-product attention (native/attention.h).
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "attention.h"
#include "glue.h"

namespace nodegrad::glue {
namespace {

AttentionArgs readAttention(Args& args, const Napi::Value& value) {
  const Napi::Object p = args.object(value, "params");
  AttentionArgs a;
  a.batch = args.integer(p, "batch");
  a.queries = args.integer(p, "queries");
  a.keys = args.integer(p, "keys");
  a.headDim = args.integer(p, "headDim");
  a.valueDim = args.integer(p, "valueDim");
  a.scale = args.number(p, "scale");
  a.causal = args.flag(p, "causal");
  if (!std::isfinite(a.scale)) args.fail("scale must be finite");
  // Bounds every product of two sizes the kernels form, so their indices cannot overflow.
  checkedMul(checkedMul(a.batch, std::max(a.queries, a.keys)), std::max(a.headDim, a.valueDim));
  return a;
}

// attentionForward(params, q, k, v, out, logsumexp)
Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native attentionForward", [&](Args& args) {
    const AttentionArgs a = readAttention(args, args.at(0));
    const ArrayRef q = args.array(1, "q"), k = args.array(2, "k"), v = args.array(3, "v");
    const ArrayRef out = args.array(4, "out"), lse = args.array(5, "logsumexp");
    for (const ArrayRef* other : {&k, &v, &out, &lse}) args.sameType(q, *other);
    dispatchFloat(args, q, [&](auto tag) {
      using T = decltype(tag);
      const T* pq = args.bind(q, checkedMul(a.batch * a.queries, a.headDim)).as<T>();
      const T* pk = args.bind(k, checkedMul(a.batch * a.keys, a.headDim)).as<T>();
      const T* pv = args.bind(v, checkedMul(a.batch * a.keys, a.valueDim)).as<T>();
      T* po = args.bind(out, checkedMul(a.batch * a.queries, a.valueDim)).as<T>();
      T* pl = args.bind(lse, a.batch * a.queries).as<T>();
      args.run([=] { nodegrad::attentionForward(a, pq, pk, pv, po, pl); });
    });
    return args.env().Undefined();
  });
}

// attentionBackward(params, q, k, v, out, logsumexp, gradOut, gradQ, gradK, gradV)
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "native attentionBackward", [&](Args& args) {
    const AttentionArgs a = readAttention(args, args.at(0));
    const ArrayRef q = args.array(1, "q"), k = args.array(2, "k"), v = args.array(3, "v");
    const ArrayRef out = args.array(4, "out"), lse = args.array(5, "logsumexp"), gradOut = args.array(6, "gradOut");
    const ArrayRef gq = args.array(7, "gradQ"), gk = args.array(8, "gradK"), gv = args.array(9, "gradV");
    for (const ArrayRef* other : {&k, &v, &out, &lse, &gradOut, &gq, &gk, &gv}) args.sameType(q, *other);
    dispatchFloat(args, q, [&](auto tag) {
      using T = decltype(tag);
      const int64_t qSize = checkedMul(a.batch * a.queries, a.headDim), kSize = checkedMul(a.batch * a.keys, a.headDim);
      const int64_t vSize = checkedMul(a.batch * a.keys, a.valueDim),
                    oSize = checkedMul(a.batch * a.queries, a.valueDim);
      const T* pq = args.bind(q, qSize).as<T>();
      const T* pk = args.bind(k, kSize).as<T>();
      const T* pv = args.bind(v, vSize).as<T>();
      const T* po = args.bind(out, oSize).as<T>();
      const T* pl = args.bind(lse, a.batch * a.queries).as<T>();
      const T* pg = args.bind(gradOut, oSize).as<T>();
      T* dq = args.bind(gq, qSize).as<T>();
      T* dk = args.bind(gk, kSize).as<T>();
      T* dv = args.bind(gv, vSize).as<T>();
      nodegrad::attentionBackward(a, pq, pk, pv, po, pl, pg, dq, dk, dv);
    });
    return args.env().Undefined();
  });
}

}  // namespace

void registerAttentionFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("attentionForward", Napi::Function::New(env, AttentionForward, "attentionForward"));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward, "attentionBackward"));
}

}  // namespace nodegrad::glue
