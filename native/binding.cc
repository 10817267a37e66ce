// N-API glue: the addon's exports take exactly the arguments of the Backend interface
// (lib/backend/types.ts): strided views and parameter objects read by field name. Each re-checks,
// at this boundary, everything that protects memory — typed-array kinds, lengths against shapes,
// strides and offsets, index ranges. A bad call throws a JS Error with code ERR_NODEGRAD_NATIVE
// naming the kernel; it never reaches a kernel.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <optional>
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
  return guardedKernel(info, "native unary", [&](Args& args) {
    const int64_t op = args.integer(0, "op");
    if (op >= static_cast<int64_t>(UnaryOp::Count)) args.fail("unknown op " + std::to_string(op));
    const ArrayRef x = args.array(1, "x"), out = args.array(2, "out");
    const int64_t n = args.integer(3, "n");
    const double p1 = args.number(4, "p1"), p2 = args.number(5, "p2");
    args.sameType(x, out);
    dispatchFloat(args, x, [&](auto tag) {
      using T = decltype(tag);
      const T* px = args.bind(x, n).as<T>();
      T* po = args.bind(out, n).as<T>();
      args.run([=] { nodegrad::unary(static_cast<UnaryOp>(op), px, po, n, p1, p2); });
    });
    return args.env().Undefined();
  });
}

// unaryBackward(op, saved, grad, out, n, p1, p2) for the ops of native/unary_ops.h.
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native unaryBackward", [&](Args& args) {
    const int64_t op = args.integer(0, "op");
    if (op < nodegrad::kFirstTableUnaryOp || op >= static_cast<int64_t>(UnaryOp::Count)) {
      args.fail("unknown op " + std::to_string(op));
    }
    const ArrayRef saved = args.array(1, "saved"), grad = args.array(2, "grad"), out = args.array(3, "out");
    const int64_t n = args.integer(4, "n");
    const double p1 = args.number(5, "p1"), p2 = args.number(6, "p2");
    args.sameType(saved, grad);
    args.sameType(saved, out);
    dispatchFloat(args, saved, [&](auto tag) {
      using T = decltype(tag);
      const T* ps = args.bind(saved, n).as<T>();
      const T* pg = args.bind(grad, n).as<T>();
      T* po = args.bind(out, n).as<T>();
      args.run([=] { nodegrad::unaryBackward(static_cast<UnaryOp>(op), ps, pg, po, n, p1, p2); });
    });
    return args.env().Undefined();
  });
}

// binary(op, shape, a, b, out) with a and b strided views.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native binary", [&](Args& args) {
    const int64_t op = args.integer(0, "op");
    if (op >= static_cast<int64_t>(BinaryOp::Count)) args.fail("unknown op " + std::to_string(op));
    const std::vector<int64_t> shape = args.intList(args.at(1), "shape");
    const ViewRef a = args.view(args.at(2), "a"), b = args.view(args.at(3), "b");
    const ArrayRef out = args.array(4, "out");
    args.sameType(a.data, b.data);
    args.sameType(a.data, out);
    const auto bop = static_cast<BinaryOp>(op);
    if (out.type == napi_int32_array && bop != BinaryOp::Add && bop != BinaryOp::Sub && bop != BinaryOp::Mul &&
        bop != BinaryOp::Maximum && bop != BinaryOp::Minimum)
      args.fail("op " + std::to_string(op) + " is not defined for Int32Array");
    dispatch(args, out.type, [&](auto tag) {
      using T = decltype(tag);
      const T* pa = args.bindView<T>(a, shape);
      const T* pb = args.bindView<T>(b, shape);
      T* po = args.bind(out, product(shape)).as<T>();
      args.run([=, sa = a.strides, sb = b.strides] {
        nodegrad::binary(bop, static_cast<int>(shape.size()), shape.data(), pa, sa.data(), pb, sb.data(), po);
      });
    });
    return args.env().Undefined();
  });
}

// copyStrided(shape, src, dst) with src and dst strided views.
Napi::Value CopyStrided(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native copyStrided", [&](Args& args) {
    const std::vector<int64_t> shape = args.intList(args.at(0), "shape");
    const ViewRef src = args.view(args.at(1), "src"), dst = args.view(args.at(2), "dst");
    args.sameType(src.data, dst.data);
    dispatch(args, src.data.type, [&](auto tag) {
      using T = decltype(tag);
      const T* from = args.bindView<T>(src, shape);
      T* to = args.bindView<T>(dst, shape);
      args.run([=, fromStrides = src.strides, toStrides = dst.strides] {
        nodegrad::copyStrided(static_cast<int>(shape.size()), shape.data(), from, fromStrides.data(), to,
                              toStrides.data());
      });
    });
    return args.env().Undefined();
  });
}

// reduce(op, x, outer, n, inner, values | null, indices | null); Int32Array x for max and min.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native reduce", [&](Args& args) {
    const int64_t op = args.integer(0, "op");
    if (op >= static_cast<int64_t>(ReduceOp::Count)) args.fail("unknown op " + std::to_string(op));
    const ArrayRef x = args.array(1, "x");
    const int64_t outer = args.integer(2, "outer"), n = args.integer(3, "n"), inner = args.integer(4, "inner");
    const std::optional<ArrayRef> values = args.optionalArray(5, "values"), indices = args.optionalArray(6, "indices");
    const auto rop = static_cast<ReduceOp>(op);
    const bool extremum = rop == ReduceOp::Max || rop == ReduceOp::Min;
    if (!extremum) args.requireFloat(x);
    if (values) args.sameType(x, *values);
    if (indices) args.requireInt32(*indices);
    if (!extremum && indices) args.fail("only max and min produce indices");
    if (!values && !extremum) args.fail("values buffer is required");
    if (!values && !indices) args.fail("values or indices buffer is required");
    const int64_t size = checkedMul(checkedMul(outer, n), inner), outputs = checkedMul(outer, inner);
    if (outputs == 0) return args.env().Undefined();
    // An empty sum is 0 and an empty logsumexp -inf (the kernel writes both); max and min have no value.
    if (n == 0 && extremum) args.fail("cannot reduce an axis of size 0");
    dispatch(args, x.type, [&](auto tag) {
      using T = decltype(tag);
      const T* px = args.bind(x, size).as<T>();
      T* pv = args.bindOptional<T>(values, outputs);
      auto* pi = args.bindOptional<int32_t>(indices, outputs);
      args.run([=] { nodegrad::reduce(rop, px, outer, n, inner, pv, pi); });
    });
    return args.env().Undefined();
  });
}

// Runs inside the kernel closure: while ng.runAsync defers, the indices exist only then.
void checkIndices(const int32_t* index, int64_t count, int64_t limit) {
  for (int64_t j = 0; j < count; ++j)
    if (index[j] < 0 || index[j] >= limit)
      throw nodegrad::deferred::KernelError{"index " + std::to_string(index[j]) +
                                            " is out of range for a dimension of size " + std::to_string(limit)};
}

// indexSelect(src, outer, n, inner, index, k, out)
Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native indexSelect", [&](Args& args) {
    const ArrayRef src = args.array(0, "src");
    const int64_t outer = args.integer(1, "outer"), n = args.integer(2, "n"), inner = args.integer(3, "inner");
    const ArrayRef index = args.array(4, "index");
    const int64_t count = args.integer(5, "k");
    const ArrayRef out = args.array(6, "out");
    args.sameType(src, out);
    args.requireInt32(index);
    dispatch(args, src.type, [&](auto tag) {
      using T = decltype(tag);
      const T* from = args.bind(src, checkedMul(checkedMul(outer, n), inner)).as<T>();
      T* to = args.bind(out, checkedMul(checkedMul(outer, count), inner)).as<T>();
      const int32_t* idx = args.bind(index, count).as<int32_t>();
      args.run([=] {
        checkIndices(idx, count, n);
        nodegrad::indexSelect(from, outer, n, inner, idx, count, to);
      });
    });
    return args.env().Undefined();
  });
}

// indexAdd(src, outer, k, inner, index, n, out)
Napi::Value IndexAdd(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native indexAdd", [&](Args& args) {
    const ArrayRef src = args.array(0, "src");
    const int64_t outer = args.integer(1, "outer"), count = args.integer(2, "k"), inner = args.integer(3, "inner");
    const ArrayRef index = args.array(4, "index");
    const int64_t n = args.integer(5, "n");
    const ArrayRef out = args.array(6, "out");
    args.sameType(src, out);
    args.requireInt32(index);
    dispatchFloat(args, src, [&](auto tag) {
      using T = decltype(tag);
      const T* from = args.bind(src, checkedMul(checkedMul(outer, count), inner)).as<T>();
      T* to = args.bind(out, checkedMul(checkedMul(outer, n), inner)).as<T>();
      const int32_t* idx = args.bind(index, count).as<int32_t>();
      args.run([=] {
        checkIndices(idx, count, n);
        nodegrad::indexAdd(from, outer, count, inner, idx, n, to);
      });
    });
    return args.env().Undefined();
  });
}

// Elements a rows x cols operand with leading dimension ld spans, starting at offset.
int64_t matrixExtent(int64_t rows, int64_t cols, int64_t ld, int64_t offset) {
  if (rows == 0 || cols == 0) return 0;
  return checkedAdd(checkedAdd(offset, checkedMul(rows - 1, ld)), cols);
}

// gemm(params, a, b, c) with params a GemmParams object.
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  return guardedKernel(info, "native gemm", [&](Args& args) {
    const Napi::Object p = args.object(args.at(0), "params");
    nodegrad::GemmArgs g;
    g.transA = args.flag(p, "transA");
    g.transB = args.flag(p, "transB");
    g.m = args.integer(p, "m");
    g.n = args.integer(p, "n");
    g.k = args.integer(p, "k");
    g.alpha = args.number(p, "alpha");
    g.beta = args.number(p, "beta");
    const int64_t aOff = args.integer(p, "aOffset"), bOff = args.integer(p, "bOffset"),
                  cOff = args.integer(p, "cOffset");
    g.lda = args.integer(p, "lda");
    g.ldb = args.integer(p, "ldb");
    g.ldc = args.integer(p, "ldc");
    g.batch = args.integer(p, "batch");
    g.strideA = args.integer(p, "strideA");
    g.strideB = args.integer(p, "strideB");
    g.strideC = args.integer(p, "strideC");
    const ArrayRef a = args.array(1, "a"), b = args.array(2, "b"), c = args.array(3, "c");
    args.sameType(a, b);
    args.sameType(a, c);
    const int64_t aRows = g.transA ? g.k : g.m, aCols = g.transA ? g.m : g.k;
    const int64_t bRows = g.transB ? g.n : g.k, bCols = g.transB ? g.k : g.n;
    if (aCols > 0 && g.lda < aCols)
      args.fail("lda " + std::to_string(g.lda) + " is smaller than the row length " + std::to_string(aCols));
    if (bCols > 0 && g.ldb < bCols)
      args.fail("ldb " + std::to_string(g.ldb) + " is smaller than the row length " + std::to_string(bCols));
    if (g.n > 0 && g.ldc < g.n)
      args.fail("ldc " + std::to_string(g.ldc) + " is smaller than n = " + std::to_string(g.n));
    const int64_t last = g.batch > 0 ? g.batch - 1 : 0, batches = g.batch > 0 ? 1 : 0;
    const int64_t aNeeded = batches * matrixExtent(aRows, aCols, g.lda, checkedAdd(aOff, checkedMul(last, g.strideA)));
    const int64_t bNeeded = batches * matrixExtent(bRows, bCols, g.ldb, checkedAdd(bOff, checkedMul(last, g.strideB)));
    const int64_t cNeeded = batches * matrixExtent(g.m, g.n, g.ldc, checkedAdd(cOff, checkedMul(last, g.strideC)));
    dispatchFloat(args, a, [&](auto tag) {
      using T = decltype(tag);
      const T* pa = args.bind(a, aNeeded).as<T>();
      const T* pb = args.bind(b, bNeeded).as<T>();
      T* pc = args.bind(c, cNeeded).as<T>();
      if (g.batch == 0 || g.m == 0 || g.n == 0) return;
      args.run([=] { nodegrad::gemm<T>(g, pa + aOff, pb + bOff, pc + cOff); });
    });
    return args.env().Undefined();
  });
}

// gemmIsa(name?): the GEMM variant in use; with a name, switches to it (only variants this CPU
// runs) and returns the previous one.
Napi::Value GemmIsa(const Napi::CallbackInfo& info) {
  return guarded(info, "native gemmIsa", [&](Args& args) {
    const std::string before = nodegrad::gemmIsa();
    if (args.present(0)) {
      if (!args.at(0).IsString()) args.fail("name must be a string");
      const std::string name = args.at(0).As<Napi::String>().Utf8Value();
      if (!nodegrad::setGemmIsa(name))
        args.fail("'" + name +
                  "' is not a GEMM variant this CPU runs (valid: avx512, avx2, portable, at or below the best one "
                  "CPUID reports)");
    }
    return Napi::String::New(args.env(), before);
  });
}

// convDirect(enabled?): whether convolutions use the direct few-channel kernels; with a boolean,
// switches them and returns the previous state.
Napi::Value ConvDirect(const Napi::CallbackInfo& info) {
  return guarded(info, "native convDirect", [&](Args& args) {
    if (args.present(0)) {
      if (!args.at(0).IsBoolean()) args.fail("enabled must be a boolean");
      return Napi::Boolean::New(args.env(), nodegrad::setConvDirect(args.at(0).As<Napi::Boolean>().Value()));
    }
    return Napi::Boolean::New(args.env(), nodegrad::convDirectActive());
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, "native getNumThreads",
                 [&](Args& args) { return Napi::Number::New(args.env(), nodegrad::numThreads()); });
}

// setNumThreads(n): resizes the pool (n in [1, 256]).
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, "native setNumThreads", [&](Args& args) {
    const int64_t n = args.integer(0, "n");
    if (n < 1 || n > 256) args.fail("n must be in [1, 256], got " + std::to_string(n));
    nodegrad::setNumThreads(static_cast<int>(n));
    return args.env().Undefined();
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("unaryBackward", Napi::Function::New(env, UnaryBackward, "unaryBackward"));
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
  registerGatherFunctions(env, exports);
  registerRnnFunctions(env, exports);
  registerMemoryFunctions(env, exports);
  registerNormFunctions(env, exports);
  registerAttentionFunctions(env, exports);
  nodegrad::deferred::registerFunctions(env, exports);
  registerDistributedFunctions(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(nodegrad, Init)
