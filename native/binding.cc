// N-API glue: registers the kernels and re-checks, at this boundary, everything that protects
// memory — typed-array kinds, lengths against shapes, strides and offsets, index ranges. A bad call
// throws a JS Error with code ERR_NODEGRAD_NATIVE naming the kernel; it never reaches a kernel.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#include <sys/mman.h>
#endif
#include <string>
#include <vector>

#include "glue.h"
#include "kernels.h"
#include "thread_pool.h"

namespace {

using namespace nodegrad::glue;
using nodegrad::BinaryOp;
using nodegrad::ReduceOp;
using nodegrad::UnaryOp;

// unary(op, x, out, n, p1, p2)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native unary";
    const int64_t op = integer(info, 0, k, "op");
    if (op >= static_cast<int64_t>(UnaryOp::Count)) fail(k, "unknown op " + std::to_string(op));
    const Buffer x = buffer(info, 1, k, "x"), out = buffer(info, 2, k, "out");
    sameType(k, x, out, "x", "out");
    requireFloat(k, x, "x");
    const int64_t n = integer(info, 3, k, "n");
    requireLength(k, x, n, "x");
    requireLength(k, out, n, "out");
    const double p1 = number(info, 4, k, "p1"), p2 = number(info, 5, k, "p2");
    if (x.type == napi_float32_array)
      nodegrad::unary(static_cast<UnaryOp>(op), static_cast<float*>(x.data), static_cast<float*>(out.data), n, p1, p2);
    else
      nodegrad::unary(static_cast<UnaryOp>(op), static_cast<double*>(x.data), static_cast<double*>(out.data), n, p1, p2);
    return info.Env().Undefined();
  });
}

// binary(op, shape, a, aOffset, aStrides, b, bOffset, bStrides, out)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native binary";
    const int64_t op = integer(info, 0, k, "op");
    if (op >= static_cast<int64_t>(BinaryOp::Count)) fail(k, "unknown op " + std::to_string(op));
    const std::vector<int64_t> shape = intList(info, 1, k, "shape");
    const Buffer a = buffer(info, 2, k, "a");
    const int64_t aOff = integer(info, 3, k, "aOffset");
    const std::vector<int64_t> aStr = intList(info, 4, k, "aStrides");
    const Buffer b = buffer(info, 5, k, "b");
    const int64_t bOff = integer(info, 6, k, "bOffset");
    const std::vector<int64_t> bStr = intList(info, 7, k, "bStrides");
    const Buffer out = buffer(info, 8, k, "out");
    sameType(k, a, b, "a", "b");
    sameType(k, a, out, "a", "out");
    requireView(k, a, shape, aStr, aOff, "a");
    requireView(k, b, shape, bStr, bOff, "b");
    requireLength(k, out, product(shape), "out");
    const auto bop = static_cast<BinaryOp>(op);
    const int nd = static_cast<int>(shape.size());
    if (a.type == napi_int32_array) {
      if (bop != BinaryOp::Add && bop != BinaryOp::Sub && bop != BinaryOp::Mul &&
          bop != BinaryOp::Maximum && bop != BinaryOp::Minimum)
        fail(k, "op " + std::to_string(op) + " is not defined for Int32Array");
      nodegrad::binary(bop, nd, shape.data(), static_cast<int32_t*>(a.data) + aOff, aStr.data(),
                       static_cast<int32_t*>(b.data) + bOff, bStr.data(), static_cast<int32_t*>(out.data));
    } else if (a.type == napi_float32_array) {
      nodegrad::binary(bop, nd, shape.data(), static_cast<float*>(a.data) + aOff, aStr.data(),
                       static_cast<float*>(b.data) + bOff, bStr.data(), static_cast<float*>(out.data));
    } else {
      nodegrad::binary(bop, nd, shape.data(), static_cast<double*>(a.data) + aOff, aStr.data(),
                       static_cast<double*>(b.data) + bOff, bStr.data(), static_cast<double*>(out.data));
    }
    return info.Env().Undefined();
  });
}

// copyStrided(shape, src, srcOffset, srcStrides, dst, dstOffset, dstStrides)
Napi::Value CopyStrided(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native copyStrided";
    const std::vector<int64_t> shape = intList(info, 0, k, "shape");
    const Buffer src = buffer(info, 1, k, "src");
    const int64_t sOff = integer(info, 2, k, "srcOffset");
    const std::vector<int64_t> sStr = intList(info, 3, k, "srcStrides");
    const Buffer dst = buffer(info, 4, k, "dst");
    const int64_t dOff = integer(info, 5, k, "dstOffset");
    const std::vector<int64_t> dStr = intList(info, 6, k, "dstStrides");
    sameType(k, src, dst, "src", "dst");
    requireView(k, src, shape, sStr, sOff, "src");
    requireView(k, dst, shape, dStr, dOff, "dst");
    const int nd = static_cast<int>(shape.size());
    if (src.type == napi_float32_array)
      nodegrad::copyStrided(nd, shape.data(), static_cast<float*>(src.data) + sOff, sStr.data(), static_cast<float*>(dst.data) + dOff, dStr.data());
    else if (src.type == napi_float64_array)
      nodegrad::copyStrided(nd, shape.data(), static_cast<double*>(src.data) + sOff, sStr.data(), static_cast<double*>(dst.data) + dOff, dStr.data());
    else
      nodegrad::copyStrided(nd, shape.data(), static_cast<int32_t*>(src.data) + sOff, sStr.data(), static_cast<int32_t*>(dst.data) + dOff, dStr.data());
    return info.Env().Undefined();
  });
}

// reduce(op, x, outer, n, inner, values | null, indices | null)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native reduce";
    const int64_t op = integer(info, 0, k, "op");
    if (op >= static_cast<int64_t>(ReduceOp::Count)) fail(k, "unknown op " + std::to_string(op));
    const Buffer x = buffer(info, 1, k, "x");
    requireFloat(k, x, "x");
    const int64_t outer = integer(info, 2, k, "outer"), n = integer(info, 3, k, "n"),
                  inner = integer(info, 4, k, "inner");
    if (n == 0) fail(k, "cannot reduce an axis of size 0");
    requireLength(k, x, checkedMul(checkedMul(outer, n), inner), "x");
    const auto rop = static_cast<ReduceOp>(op);
    void* values = nullptr;
    int32_t* indices = nullptr;
    if (info.Length() > 5 && !info[5].IsNull() && !info[5].IsUndefined()) {
      const Buffer v = buffer(info, 5, k, "values");
      sameType(k, x, v, "x", "values");
      requireLength(k, v, checkedMul(outer, inner), "values");
      values = v.data;
    }
    if (info.Length() > 6 && !info[6].IsNull() && !info[6].IsUndefined()) {
      const Buffer ix = buffer(info, 6, k, "indices");
      if (ix.type != napi_int32_array) fail(k, "indices must be an Int32Array");
      requireLength(k, ix, checkedMul(outer, inner), "indices");
      indices = static_cast<int32_t*>(ix.data);
    }
    if (rop != ReduceOp::Max && rop != ReduceOp::Min && indices) fail(k, "only max and min produce indices");
    if (!values && (rop == ReduceOp::Sum || rop == ReduceOp::LogSumExp)) fail(k, "values buffer is required");
    if (!values && !indices) fail(k, "values or indices buffer is required");
    if (x.type == napi_float32_array)
      nodegrad::reduce(rop, static_cast<float*>(x.data), outer, n, inner, static_cast<float*>(values), indices);
    else
      nodegrad::reduce(rop, static_cast<double*>(x.data), outer, n, inner, static_cast<double*>(values), indices);
    return info.Env().Undefined();
  });
}

void checkIndices(const std::string& k, const Buffer& index, int64_t count, int64_t limit) {
  if (index.type != napi_int32_array) fail(k, "index must be an Int32Array");
  requireLength(k, index, count, "index");
  const auto* idx = static_cast<const int32_t*>(index.data);
  for (int64_t j = 0; j < count; ++j)
    if (idx[j] < 0 || idx[j] >= limit)
      fail(k, "index " + std::to_string(idx[j]) + " is out of range for a dimension of size " + std::to_string(limit));
}

// indexSelect(src, outer, n, inner, index, k, out)
Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native indexSelect";
    const Buffer src = buffer(info, 0, k, "src");
    const int64_t outer = integer(info, 1, k, "outer"), n = integer(info, 2, k, "n"), inner = integer(info, 3, k, "inner");
    const Buffer index = buffer(info, 4, k, "index");
    const int64_t count = integer(info, 5, k, "k");
    const Buffer out = buffer(info, 6, k, "out");
    sameType(k, src, out, "src", "out");
    requireLength(k, src, checkedMul(checkedMul(outer, n), inner), "src");
    requireLength(k, out, checkedMul(checkedMul(outer, count), inner), "out");
    checkIndices(k, index, count, n);
    const auto* idx = static_cast<const int32_t*>(index.data);
    if (src.type == napi_float32_array)
      nodegrad::indexSelect(static_cast<float*>(src.data), outer, n, inner, idx, count, static_cast<float*>(out.data));
    else if (src.type == napi_float64_array)
      nodegrad::indexSelect(static_cast<double*>(src.data), outer, n, inner, idx, count, static_cast<double*>(out.data));
    else
      nodegrad::indexSelect(static_cast<int32_t*>(src.data), outer, n, inner, idx, count, static_cast<int32_t*>(out.data));
    return info.Env().Undefined();
  });
}

// indexAdd(src, outer, k, inner, index, n, out)
Napi::Value IndexAdd(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native indexAdd";
    const Buffer src = buffer(info, 0, k, "src");
    requireFloat(k, src, "src");
    const int64_t outer = integer(info, 1, k, "outer"), count = integer(info, 2, k, "k"), inner = integer(info, 3, k, "inner");
    const Buffer index = buffer(info, 4, k, "index");
    const int64_t n = integer(info, 5, k, "n");
    const Buffer out = buffer(info, 6, k, "out");
    sameType(k, src, out, "src", "out");
    requireLength(k, src, checkedMul(checkedMul(outer, count), inner), "src");
    requireLength(k, out, checkedMul(checkedMul(outer, n), inner), "out");
    checkIndices(k, index, count, n);
    const auto* idx = static_cast<const int32_t*>(index.data);
    if (src.type == napi_float32_array)
      nodegrad::indexAdd(static_cast<float*>(src.data), outer, count, inner, idx, n, static_cast<float*>(out.data));
    else
      nodegrad::indexAdd(static_cast<double*>(src.data), outer, count, inner, idx, n, static_cast<double*>(out.data));
    return info.Env().Undefined();
  });
}

// Elements a (possibly transposed) rows x cols operand with leading dimension ld spans.
int64_t matrixExtent(bool trans, int64_t rows, int64_t cols, int64_t ld, int64_t offset) {
  if (rows == 0 || cols == 0) return 0;
  return trans ? checkedAdd(checkedAdd(offset, checkedMul(cols - 1, ld)), rows)
               : checkedAdd(checkedAdd(offset, checkedMul(rows - 1, ld)), cols);
}

// gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc,
//      batch, strideA, strideB, strideC)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string k = "native gemm";
    nodegrad::GemmArgs g;
    if (info.Length() < 20) fail(k, "expected 20 arguments, got " + std::to_string(info.Length()));
    g.transA = info[0].ToBoolean();
    g.transB = info[1].ToBoolean();
    g.m = integer(info, 2, k, "m");
    g.n = integer(info, 3, k, "n");
    g.k = integer(info, 4, k, "k");
    g.alpha = number(info, 5, k, "alpha");
    const Buffer a = buffer(info, 6, k, "a");
    const int64_t aOff = integer(info, 7, k, "aOffset");
    g.lda = integer(info, 8, k, "lda");
    const Buffer b = buffer(info, 9, k, "b");
    const int64_t bOff = integer(info, 10, k, "bOffset");
    g.ldb = integer(info, 11, k, "ldb");
    g.beta = number(info, 12, k, "beta");
    const Buffer c = buffer(info, 13, k, "c");
    const int64_t cOff = integer(info, 14, k, "cOffset");
    g.ldc = integer(info, 15, k, "ldc");
    g.batch = integer(info, 16, k, "batch");
    g.strideA = integer(info, 17, k, "strideA");
    g.strideB = integer(info, 18, k, "strideB");
    g.strideC = integer(info, 19, k, "strideC");
    sameType(k, a, b, "a", "b");
    sameType(k, a, c, "a", "c");
    requireFloat(k, a, "a");
    const int64_t aRows = g.transA ? g.k : g.m, aCols = g.transA ? g.m : g.k;
    const int64_t bRows = g.transB ? g.n : g.k, bCols = g.transB ? g.k : g.n;
    if (aCols > 0 && g.lda < aCols) fail(k, "lda " + std::to_string(g.lda) + " is smaller than the row length " + std::to_string(aCols));
    if (bCols > 0 && g.ldb < bCols) fail(k, "ldb " + std::to_string(g.ldb) + " is smaller than the row length " + std::to_string(bCols));
    if (g.n > 0 && g.ldc < g.n) fail(k, "ldc " + std::to_string(g.ldc) + " is smaller than n = " + std::to_string(g.n));
    if (g.batch > 0) {
      const int64_t last = g.batch - 1;
      requireLength(k, a, matrixExtent(false, aRows, aCols, g.lda, checkedAdd(aOff, checkedMul(last, g.strideA))), "a");
      requireLength(k, b, matrixExtent(false, bRows, bCols, g.ldb, checkedAdd(bOff, checkedMul(last, g.strideB))), "b");
      requireLength(k, c, matrixExtent(false, g.m, g.n, g.ldc, checkedAdd(cOff, checkedMul(last, g.strideC))), "c");
    }
    if (a.type == napi_float32_array)
      nodegrad::gemm_f32(g, static_cast<float*>(a.data) + aOff, static_cast<float*>(b.data) + bOff, static_cast<float*>(c.data) + cOff);
    else
      nodegrad::gemm_f64(g, static_cast<double*>(a.data) + aOff, static_cast<double*>(b.data) + bOff, static_cast<double*>(c.data) + cOff);
    return info.Env().Undefined();
  });
}

// gemmIsa(name?): the GEMM variant in use; with a name, switches to it (only variants this CPU
// runs) and returns the previous one.
Napi::Value GemmIsa(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const std::string before = nodegrad::gemmIsa();
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      if (!info[0].IsString()) throw ArgError{"native gemmIsa: name must be a string"};
      const std::string name = info[0].As<Napi::String>().Utf8Value();
      if (!nodegrad::setGemmIsa(name))
        throw ArgError{"native gemmIsa: '" + name + "' is not a GEMM variant this CPU runs (valid: avx512, avx2, " +
                       "portable, at or below the best one CPUID reports)"};
    }
    return Napi::String::New(info.Env(), before);
  });
}

// convDirect(enabled?): whether convolutions use the direct few-channel kernels; with a boolean,
// switches them and returns the previous state.
Napi::Value ConvDirect(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      if (!info[0].IsBoolean()) throw ArgError{"native convDirect: enabled must be a boolean"};
      return Napi::Boolean::New(info.Env(), nodegrad::setConvDirect(info[0].As<Napi::Boolean>().Value()));
    }
    return Napi::Boolean::New(info.Env(), nodegrad::convDirectActive());
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), nodegrad::numThreads());
}

// setNumThreads(n): resizes the pool (n >= 1).
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const int64_t n = integer(info, 0, "native setNumThreads", "n");
    if (n < 1 || n > 256) fail("native setNumThreads", "n must be in [1, 256], got " + std::to_string(n));
    nodegrad::setNumThreads(static_cast<int>(n));
    return info.Env().Undefined();
  });
}

#if defined(__GLIBC__) && defined(__linux__)
// Grows the malloc heap by 256 MiB of address space (no memory is touched, so none is used yet),
// asks for transparent huge pages over it, and frees it back to the heap, which keeps it (the trim
// threshold below). The tensors allocated next come from there, and their first touch faults in
// one 2 MiB page instead of 512 small ones: the first training steps of a small net faulted ~600
// pages each before the heap reached its working size.
void reserveHugePages() {
  const char* env = std::getenv("NODEGRAD_HUGEPAGES");
  if (env && std::string(env) == "0") return;
  constexpr size_t kBlock = 16 * 1024 * 1024, kBlocks = 16, kHuge = 2 * 1024 * 1024;
  void* blocks[kBlocks] = {};
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (size_t i = 0; i < kBlocks; ++i) {
    blocks[i] = std::malloc(kBlock);
    if (!blocks[i]) break;
    const auto at = reinterpret_cast<uintptr_t>(blocks[i]);
    lo = std::min(lo, at);
    hi = std::max(hi, at + kBlock);
  }
  // Only a contiguous run (the blocks came from the heap top, one after another) is advised.
  if (hi > lo && hi - lo < 2 * kBlocks * kBlock) {
    const uintptr_t start = (lo + kHuge - 1) / kHuge * kHuge, end = hi / kHuge * kHuge;
    if (end > start) madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
  }
  for (void* block : blocks) std::free(block);
}
#else
void reserveHugePages() {}
#endif

// Fresh pages cost ~12 us each to fault in here, and glibc returns freed blocks above 128 KiB to
// the OS by default, so every step's tensors would be faulted in anew. Keeping freed memory in the
// process makes a training step fault almost nothing. NODEGRAD_MALLOPT=0 leaves malloc untouched.
void tuneMalloc() {
#if defined(__GLIBC__)
  const char* env = std::getenv("NODEGRAD_MALLOPT");
  if (env && std::string(env) == "0") return;
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's maximum on 64-bit; larger values are refused
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  mallopt(M_TOP_PAD, 64 * 1024 * 1024);
  reserveHugePages();
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("copyStrided", Napi::Function::New(env, CopyStrided, "copyStrided"));
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("indexSelect", Napi::Function::New(env, IndexSelect, "indexSelect"));
  exports.Set("indexAdd", Napi::Function::New(env, IndexAdd, "indexAdd"));
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("gemmIsa", Napi::Function::New(env, GemmIsa, "gemmIsa"));
  exports.Set("convDirect", Napi::Function::New(env, ConvDirect, "convDirect"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  registerNnFunctions(env, exports);
  registerOptimFunctions(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(nodegrad, Init)
