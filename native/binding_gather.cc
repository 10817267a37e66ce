// N-API glue for gather, scatter, scatterAdd and indexPut over [outer, n, inner] layouts, and
// indexPutAt over precomputed offsets.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "glue.h"
#include "kernels.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad::glue {
namespace {

// Every index must lie in [0, limit): the kernels write through them unchecked. The first pass
// has no early exit so it vectorizes, and splits over the pool like the kernels; only a failing
// call looks for the culprit.
// Throws deferred::KernelError: while ng.runAsync defers, the indices exist only inside the kernel closure.
void checkRange(const int32_t* index, int64_t count, int64_t limit) {
  // Negative indices read as unsigned exceed any cap; no int32 index reaches past 2^31.
  const uint32_t cap = limit > INT32_MAX ? 0x80000000u : static_cast<uint32_t>(limit);
  std::atomic<bool> bad{false};
  parallelRange(count, double(count), [&](int64_t begin, int64_t end) {
    if (anyIndexAtLeast(index + begin, end - begin, cap)) bad = true;
  });
  if (!bad) return;
  for (int64_t j = 0; j < count; ++j)
    if (index[j] < 0 || index[j] >= limit)
      throw deferred::KernelError{"index " + std::to_string(index[j]) + " at position " + std::to_string(j) +
                                  " is out of range [0, " + std::to_string(limit) + ")"};
}

// firstOutOfRange(index, limit): the position of the first index outside [0, limit), or -1. The
// indexing ops call it before they wrap negative indices; a vectorized pass finds the common "all
// valid" answer without a JS loop. Synchronous: refused while ng.runAsync records (the backend then
// uses the reference loop).
Napi::Value FirstOutOfRange(const Napi::CallbackInfo& info) {
  return guarded(info, "native firstOutOfRange", [&](Args& args) {
    const ArrayRef index = args.array(0, "index");
    const int64_t limit = args.integer(1, "limit");
    args.requireInt32(index);
    const Buffer b = args.bind(index);
    const auto* idx = b.as<int32_t>();
    const int64_t count = b.length;
    const uint32_t cap = limit > INT32_MAX ? 0x80000000u : static_cast<uint32_t>(limit);
    int64_t first = -1;
    if (anyIndexAtLeast(idx, count, cap)) {
      for (int64_t j = 0; j < count && first < 0; ++j)
        if (idx[j] < 0 || idx[j] >= limit) first = j;
    }
    return Napi::Number::New(args.env(), static_cast<double>(first));
  });
}

// The arguments gather, scatter and indexPut share: (src, outer, <a>, inner, index, <b>, out),
// src and out of one element type and an int32 index; `a` and `b` name the two axis lengths.
struct IndexedArgs {
  ArrayRef src;
  int64_t outer = 0, a = 0, inner = 0;
  ArrayRef index;
  int64_t b = 0;
  ArrayRef out;
};

IndexedArgs readIndexed(Args& args, const char* aName, const char* bName) {
  IndexedArgs r;
  r.src = args.array(0, "src");
  r.outer = args.integer(1, "outer");
  r.a = args.integer(2, aName);
  r.inner = args.integer(3, "inner");
  r.index = args.array(4, "index");
  r.b = args.integer(5, bName);
  r.out = args.array(6, "out");
  args.sameType(r.src, r.out);
  args.requireInt32(r.index);
  return r;
}

// gather(src, outer, n, inner, index, k, out): index and out are [outer, k, inner].
Napi::Value Gather(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native gather", [&](Args& args) {
    const IndexedArgs r = readIndexed(args, "n", "k");
    const ArrayRef &src = r.src, &index = r.index, &out = r.out;
    const int64_t outer = r.outer, n = r.a, inner = r.inner, k = r.b;
    const int64_t size = checkedMul(checkedMul(outer, k), inner);
    dispatch(args, src.type, [&](auto tag) {
      using T = decltype(tag);
      const T* from = args.bind(src, checkedMul(checkedMul(outer, n), inner)).as<T>();
      T* to = args.bind(out, size).as<T>();
      const int32_t* idx = args.bind(index, size).as<int32_t>();
      // The kernel checks each stretch of indices just before it reads them; only a failing call
      // scans them all, to name the culprit.
      args.run([=] {
        if (!nodegrad::gather(from, outer, n, inner, idx, k, to)) checkRange(idx, size, n);
      });
    });
    return args.env().Undefined();
  });
}

// scatter / scatterAdd(src, outer, k, inner, index, n, out, base?): src and index are [outer, k,
// inner]; with base (out's type and size, another buffer), out starts as a copy of it.
template <bool Add>
Napi::Value Scatter(const Napi::CallbackInfo& info) {
  return guarded(info, Add ? "native scatterAdd" : "native scatter", [&](Args& args) {
    const IndexedArgs r = readIndexed(args, "k", "n");
    const ArrayRef &src = r.src, &index = r.index, &out = r.out;
    const std::optional<ArrayRef> base = args.present(7) ? std::optional(args.array(7, "base")) : std::nullopt;
    if (base) args.sameType(*base, out);
    const int64_t outer = r.outer, k = r.a, inner = r.inner, n = r.b;
    const int64_t size = checkedMul(checkedMul(outer, k), inner), outSize = checkedMul(checkedMul(outer, n), inner);
    dispatch(args, src.type, [&](auto tag) {
      using T = decltype(tag);
      const T* from = args.bind(src, size).as<T>();
      T* to = args.bind(out, outSize).as<T>();
      const int32_t* idx = args.bind(index, size).as<int32_t>();
      const T* initial = base ? args.bind(*base, outSize).template as<T>() : nullptr;
      if (initial && initial < to + outSize && to < initial + outSize) args.fail("base must not overlap out");
      checkRange(idx, size, n);
      if constexpr (Add)
        nodegrad::scatterAdd(from, outer, k, inner, idx, n, to, initial);
      else
        nodegrad::scatter(from, outer, k, inner, idx, n, to, initial);
    });
    return args.env().Undefined();
  });
}

// indexPut(src, outer, k, inner, index, n, out, accumulate): a 1-D index of k entries.
Napi::Value IndexPut(const Napi::CallbackInfo& info) {
  return guarded(info, "native indexPut", [&](Args& args) {
    const IndexedArgs r = readIndexed(args, "k", "n");
    const ArrayRef &src = r.src, &index = r.index, &out = r.out;
    const int64_t outer = r.outer, k = r.a, inner = r.inner, n = r.b;
    const bool accumulate = args.flag(args.at(7));
    dispatch(args, src.type, [&](auto tag) {
      using T = decltype(tag);
      const T* from = args.bind(src, checkedMul(checkedMul(outer, k), inner)).as<T>();
      T* to = args.bind(out, checkedMul(checkedMul(outer, n), inner)).as<T>();
      const int32_t* idx = args.bind(index, k).as<int32_t>();
      checkRange(idx, k, n);
      nodegrad::indexPut(from, outer, k, inner, idx, n, to, accumulate);
    });
    return args.env().Undefined();
  });
}

// The largest of count non-negative offsets; fails on a negative one.
int64_t largestOffset(const Args& args, const int32_t* offsets, int64_t count, const char* name) {
  int64_t largest = 0;
  for (int64_t j = 0; j < count; ++j) {
    if (offsets[j] < 0)
      args.fail(std::string(name) + "[" + std::to_string(j) + "] = " + std::to_string(offsets[j]) + " is negative");
    largest = std::max<int64_t>(largest, offsets[j]);
  }
  return largest;
}

// indexPutAt(src, k, offsets, h, heads, run, out, accumulate): every offsets[j] + heads[r] + run
// must stay inside out.
Napi::Value IndexPutAt(const Napi::CallbackInfo& info) {
  return guarded(info, "native indexPutAt", [&](Args& args) {
    const ArrayRef src = args.array(0, "src");
    const int64_t k = args.integer(1, "k");
    const ArrayRef offsets = args.array(2, "offsets");
    const int64_t h = args.integer(3, "h");
    const ArrayRef heads = args.array(4, "heads");
    const int64_t run = args.integer(5, "run");
    const ArrayRef out = args.array(6, "out");
    const bool accumulate = args.flag(args.at(7));
    args.sameType(src, out);
    args.requireInt32(offsets);
    args.requireInt32(heads);
    const int64_t size = checkedMul(checkedMul(k, h), run);
    dispatch(args, src.type, [&](auto tag) {
      using T = decltype(tag);
      const T* from = args.bind(src, size).as<T>();
      const int32_t* at = args.bind(offsets, k).as<int32_t>();
      const int32_t* head = args.bind(heads, h).as<int32_t>();
      const Buffer to = args.bind(out);
      if (size == 0) return;
      const int64_t end = largestOffset(args, at, k, "offsets") + largestOffset(args, head, h, "heads") + run;
      if (end > to.length)
        args.fail("offsets reach element " + std::to_string(end - 1) + " of out, which has " +
                  std::to_string(to.length));
      nodegrad::indexPutAt(from, k, at, h, head, run, to.as<T>(), accumulate);
    });
    return args.env().Undefined();
  });
}

}  // namespace

void registerGatherFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("scatter", Napi::Function::New(env, Scatter<false>, "scatter"));
  exports.Set("scatterAdd", Napi::Function::New(env, Scatter<true>, "scatterAdd"));
  exports.Set("indexPut", Napi::Function::New(env, IndexPut, "indexPut"));
  exports.Set("indexPutAt", Napi::Function::New(env, IndexPutAt, "indexPutAt"));
  exports.Set("firstOutOfRange", Napi::Function::New(env, FirstOutOfRange, "firstOutOfRange"));
}

}  // namespace nodegrad::glue
