// Argument checking shared by the N-API glue files: typed-array kinds, integer arguments, and
// buffer lengths against shapes, strides and offsets. Failures throw ArgError, which guarded()
// turns into a JS Error with code ERR_NODEGRAD_NATIVE.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace nodegrad::glue {

struct ArgError {
  std::string message;
};

[[noreturn]] inline void fail(const std::string& kernel, const std::string& what) {
  throw ArgError{kernel + ": " + what};
}

struct Buffer {
  napi_typedarray_type type;
  void* data;
  int64_t length;
};

inline const char* typeName(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_int32_array: return "Int32Array";
    default: return "an unsupported typed array";
  }
}

inline Buffer buffer(const Napi::CallbackInfo& info, size_t i, const std::string& kernel,
              const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray()) fail(kernel, std::string(name) + " must be a typed array");
  const Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
  const napi_typedarray_type t = ta.TypedArrayType();
  if (t != napi_float32_array && t != napi_float64_array && t != napi_int32_array)
    fail(kernel, std::string(name) + " must be a Float32Array, Float64Array or Int32Array");
  const size_t elementSize = t == napi_float64_array ? 8 : 4;
  auto* base = static_cast<uint8_t*>(ta.ArrayBuffer().Data());
  return {t, base + ta.ByteOffset(), static_cast<int64_t>(ta.ByteLength() / elementSize)};
}

inline int64_t integer(const Napi::CallbackInfo& info, size_t i, const std::string& kernel,
                const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) fail(kernel, std::string(name) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || v < 0 || v > 9.0e15 || v != std::floor(v))
    fail(kernel, std::string(name) + " must be a non-negative integer, got " + std::to_string(v));
  return static_cast<int64_t>(v);
}

inline double number(const Napi::CallbackInfo& info, size_t i, const std::string& kernel, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) fail(kernel, std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

inline std::vector<int64_t> intList(const Napi::CallbackInfo& info, size_t i, const std::string& kernel,
                             const char* name) {
  if (i >= info.Length() || !info[i].IsArray()) fail(kernel, std::string(name) + " must be an array of integers");
  const Napi::Array arr = info[i].As<Napi::Array>();
  if (arr.Length() > 64) fail(kernel, std::string(name) + " has more than 64 dimensions");
  std::vector<int64_t> out(arr.Length());
  for (uint32_t d = 0; d < arr.Length(); ++d) {
    const Napi::Value v = arr.Get(d);
    if (!v.IsNumber()) fail(kernel, std::string(name) + " must contain only numbers");
    const double x = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(x) || x < 0 || x > 9.0e15 || x != std::floor(x))
      fail(kernel, std::string(name) + "[" + std::to_string(d) + "] must be a non-negative integer");
    out[d] = static_cast<int64_t>(x);
  }
  return out;
}

inline void sameType(const std::string& kernel, const Buffer& a, const Buffer& b, const char* an, const char* bn) {
  if (a.type != b.type)
    fail(kernel, std::string(an) + " is " + typeName(a.type) + " but " + bn + " is " + typeName(b.type));
}

inline void requireFloat(const std::string& kernel, const Buffer& a, const char* name) {
  if (a.type != napi_float32_array && a.type != napi_float64_array)
    fail(kernel, std::string(name) + " must be a Float32Array or Float64Array, got " + typeName(a.type));
}

inline void requireLength(const std::string& kernel, const Buffer& b, int64_t needed, const char* name) {
  if (b.length < needed)
    fail(kernel, std::string("buffer ") + name + " has " + std::to_string(b.length) +
                     " elements, expected at least " + std::to_string(needed));
}

// Sizes come from JS numbers: anything past 2^53 elements is nonsense, and checking here keeps
// every later multiplication free of int64 overflow.
constexpr int64_t kMaxElements = int64_t(1) << 53;

inline int64_t checkedMul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r) || r > kMaxElements) throw ArgError{"native: size overflow"};
  return r;
}

inline int64_t checkedAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r) || r > kMaxElements) throw ArgError{"native: size overflow"};
  return r;
}

inline int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (const int64_t s : shape) n = checkedMul(n, s);
  return n;
}

// The last element a strided view touches, plus one; 0 for an empty view.
inline int64_t extent(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, int64_t offset) {
  if (product(shape) == 0) return 0;
  int64_t last = offset;
  for (size_t d = 0; d < shape.size(); ++d) last = checkedAdd(last, checkedMul(shape[d] - 1, strides[d]));
  return last + 1;
}

inline void requireView(const std::string& kernel, const Buffer& b, const std::vector<int64_t>& shape,
                 const std::vector<int64_t>& strides, int64_t offset, const char* name) {
  if (strides.size() != shape.size())
    fail(kernel, std::string(name) + " strides have " + std::to_string(strides.size()) +
                     " entries for a shape of rank " + std::to_string(shape.size()));
  requireLength(kernel, b, extent(shape, strides, offset), name);
}

template <typename Fn>
Napi::Value guarded(const Napi::CallbackInfo& info, Fn fn) {
  try {
    return fn();
  } catch (const ArgError& e) {
    Napi::Error err = Napi::Error::New(info.Env(), e.message);
    err.Set("code", Napi::String::New(info.Env(), "ERR_NODEGRAD_NATIVE"));
    throw err;
  }
}

// Registers the neural-network kernels (convolution, pooling, softmax, cross-entropy).
void registerNnFunctions(Napi::Env env, Napi::Object exports);
// Registers the optimizer updates (SGD, Adam/AdamW).
void registerOptimFunctions(Napi::Env env, Napi::Object exports);

}  // namespace nodegrad::glue
