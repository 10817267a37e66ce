// Argument handling shared by the N-API glue files. Every entry point works in two phases:
//   1. read: every argument (numbers, shapes, strides, parameter-object fields, typed-array
//      handles) into plain C++ values. Reading can run JS (getters, proxies), which can shrink or
//      detach any buffer, so no data pointer exists yet.
//   2. bind: take each typed array's pointer and length (no JS runs from here on), check lengths
//      against shapes, strides and offsets, and call the kernel.
// guarded() turns every failure into a JS exception and never lets a C++ exception escape, also
// while a worker's environment is terminating and no JS exception can be thrown.
// Kernel entry points use guardedKernel() and call the kernel through Args::run(closure): while
// ng.runAsync records (native/deferred.h), run() queues the closure instead of calling it, so the
// closure captures by value and reads values (index checks) only inside. Any other binding that
// binds an array while recording is refused, so nothing computes synchronously by mistake.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "deferred.h"

namespace nodegrad::glue {

struct ArgError {
  std::string message;
};

inline const char* typeName(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array:
      return "Float32Array";
    case napi_float64_array:
      return "Float64Array";
    case napi_int32_array:
      return "Int32Array";
    default:
      return "an unsupported typed array";
  }
}

// A typed array read in phase 1: its handle and kind, no pointer yet.
struct ArrayRef {
  napi_env env = nullptr;
  napi_value handle = nullptr;
  napi_typedarray_type type = napi_float32_array;
  const char* name = "";
};

// A typed array bound in phase 2.
struct Buffer {
  napi_typedarray_type type;
  void* data;
  int64_t length;
  const char* name;
  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

// An ArrayRef with its element offset and strides (the Backend's StridedView).
struct ViewRef {
  ArrayRef data;
  int64_t offset = 0;
  std::vector<int64_t> strides;
};

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

// One entry point's arguments; `kernel` prefixes every message.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* kernel, bool deferrable = false)
      : info_(info), deferrable_(deferrable), kernel(kernel) {}
  // A kernel closure must not capture Args (it refers to the call's arguments).
  Args(const Args&) = delete;
  Args& operator=(const Args&) = delete;

  [[noreturn]] void fail(const std::string& what) const { throw ArgError{kernel + ": " + what}; }

  Napi::Env env() const { return info_.Env(); }
  Napi::Value at(size_t i) const { return i < info_.Length() ? info_[i] : info_.Env().Undefined(); }
  bool present(size_t i) const { return present(at(i)); }
  static bool present(const Napi::Value& v) { return !v.IsNull() && !v.IsUndefined(); }

  // ---- phase 1: reading (may run JS) ----
  // Names are built only when a check fails (a lambda returning the name): on the success path
  // no std::string is made per argument or per dimension.
  template <typename Name>
  double numberNamed(const Napi::Value& v, const Name& name) const {
    if (!v.IsNumber()) fail(name() + " must be a number");
    return v.As<Napi::Number>().DoubleValue();
  }
  template <typename Name>
  int64_t integerNamed(const Napi::Value& v, const Name& name) const {
    const double x = numberNamed(v, name);
    if (!std::isfinite(x) || x < 0 || x > 9.0e15 || x != std::floor(x))
      fail(name() + " must be a non-negative integer, got " + std::to_string(x));
    return static_cast<int64_t>(x);
  }
  double number(const Napi::Value& v, const char* name) const {
    return numberNamed(v, [name] { return std::string(name); });
  }
  int64_t integer(const Napi::Value& v, const char* name) const {
    return integerNamed(v, [name] { return std::string(name); });
  }
  bool flag(const Napi::Value& v) const { return v.ToBoolean().Value(); }
  template <typename Name>
  std::vector<int64_t> intListNamed(const Napi::Value& v, const Name& name) const {
    if (!v.IsArray()) fail(name() + " must be an array of integers");
    const auto arr = v.As<Napi::Array>();
    const uint32_t length = arr.Length();
    if (length > 64) fail(name() + " has more than 64 dimensions");
    std::vector<int64_t> out(length);
    for (uint32_t d = 0; d < length; ++d)
      out[d] = integerNamed(arr.Get(d), [&] { return name() + "[" + std::to_string(d) + "]"; });
    return out;
  }
  std::vector<int64_t> intList(const Napi::Value& v, const char* name) const {
    return intListNamed(v, [name] { return std::string(name); });
  }
  Napi::Object object(const Napi::Value& v, const char* name) const {
    if (!v.IsObject()) fail(std::string(name) + " must be an object");
    return v.As<Napi::Object>();
  }
  ArrayRef array(const Napi::Value& v, const char* name) const {
    if (!v.IsTypedArray()) fail(std::string(name) + " must be a typed array");
    const napi_typedarray_type t = v.As<Napi::TypedArray>().TypedArrayType();
    if (t != napi_float32_array && t != napi_float64_array && t != napi_int32_array)
      fail(std::string(name) + " must be a Float32Array, Float64Array or Int32Array");
    return {v.Env(), v, t, name};
  }
  std::optional<ArrayRef> optionalArray(const Napi::Value& v, const char* name) const {
    if (!present(v)) return std::nullopt;
    return array(v, name);
  }
  Napi::Value field(const Napi::Object& o, const char* name) const { return o.Get(name); }
  ViewRef view(const Napi::Value& v, const char* name) const {
    const Napi::Object o = object(v, name);
    ViewRef r;
    r.data = array(field(o, "data"), name);
    r.offset = integerNamed(field(o, "offset"), [name] { return std::string(name) + ".offset"; });
    r.strides = intListNamed(field(o, "strides"), [name] { return std::string(name) + ".strides"; });
    return r;
  }

  double number(size_t i, const char* name) const { return number(at(i), name); }
  int64_t integer(size_t i, const char* name) const { return integer(at(i), name); }
  ArrayRef array(size_t i, const char* name) const { return array(at(i), name); }
  std::optional<ArrayRef> optionalArray(size_t i, const char* name) const { return optionalArray(at(i), name); }
  double number(const Napi::Object& o, const char* name) const { return number(field(o, name), name); }
  int64_t integer(const Napi::Object& o, const char* name) const { return integer(field(o, name), name); }
  bool flag(const Napi::Object& o, const char* name) const { return flag(field(o, name)); }

  // ---- phase 1 checks on kinds (no pointers needed) ----
  void sameType(const ArrayRef& a, const ArrayRef& b) const {
    if (a.type != b.type)
      fail(std::string(a.name) + " is " + typeName(a.type) + " but " + b.name + " is " + typeName(b.type));
  }
  void requireFloat(const ArrayRef& a) const {
    if (a.type != napi_float32_array && a.type != napi_float64_array)
      fail(std::string(a.name) + " must be a Float32Array or Float64Array, got " + typeName(a.type));
  }
  void requireInt32(const ArrayRef& a) const {
    if (a.type != napi_int32_array) fail(std::string(a.name) + " must be an Int32Array");
  }

  // ---- phase 2: binding (no JS runs) ----
  Buffer bind(const ArrayRef& a) {
    if (deferred::recording()) {
      if (!deferrable_)
        fail(
            "cannot run while ng.runAsync defers kernels (this kernel only runs synchronously); call it outside "
            "runAsync");
      bound_.push_back(a.handle);
    }
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(a.env, a.handle, &type, &length, &data, nullptr, nullptr) != napi_ok)
      fail(std::string(a.name) + " could not be read");
    return {type, data, static_cast<int64_t>(length), a.name};
  }
  // Binds `a` and checks it holds at least `needed` elements.
  Buffer bind(const ArrayRef& a, int64_t needed) {
    const Buffer b = bind(a);
    if (b.length < needed)
      fail(std::string("buffer ") + a.name + " has " + std::to_string(b.length) + " elements, expected at least " +
           std::to_string(needed));
    return b;
  }
  // Binds an optional array (null pointer when absent).
  template <typename T>
  T* bindOptional(const std::optional<ArrayRef>& a, int64_t needed) {
    return a ? bind(*a, needed).as<T>() : nullptr;
  }
  // Binds a strided view of `shape` and returns the pointer to its first element.
  template <typename T>
  T* bindView(const ViewRef& v, const std::vector<int64_t>& shape) {
    if (v.strides.size() != shape.size())
      fail(std::string(v.data.name) + " strides have " + std::to_string(v.strides.size()) +
           " entries for a shape of rank " + std::to_string(shape.size()));
    T* const first = bind(v.data, extent(shape, v.strides, v.offset)).as<T>();
    return first ? first + v.offset : first;
  }

  // Calls the kernel closure now, or queues it while ng.runAsync records, with the arrays bound
  // so far (the collector must not free them before it ran). The closure captures by value and
  // signals a failed value check by throwing deferred::KernelError.
  template <typename Fn>
  void run(Fn&& closure) {
    if (deferred::recording())
      deferred::enqueue(info_.Env(), kernel, std::function<void()>(std::forward<Fn>(closure)), bound_);
    else
      closure();
  }

 private:
  const Napi::CallbackInfo& info_;
  const bool deferrable_;
  std::vector<napi_value> bound_;

 public:
  const std::string kernel;
};

// Calls fn with a value of the element type `t` holds: float, double or int32_t.
template <typename Fn>
void dispatch(const Args& args, napi_typedarray_type t, Fn&& fn) {
  switch (t) {
    case napi_float32_array:
      fn(float{});
      return;
    case napi_float64_array:
      fn(double{});
      return;
    case napi_int32_array:
      fn(int32_t{});
      return;
    default:
      args.fail(std::string("unsupported element type ") + typeName(t));
  }
}

// As dispatch, for kernels that only exist for float and double.
template <typename Fn>
void dispatchFloat(const Args& args, const ArrayRef& a, Fn&& fn) {
  args.requireFloat(a);
  if (a.type == napi_float32_array)
    fn(float{});
  else
    fn(double{});
}

// Throws a new JS error (RangeError when `range`) with `code`, unless one is already pending or the
// environment cannot run JS any more (a terminating worker); failures are ignored on purpose.
inline void throwJs(napi_env env, const char* code, const char* message, bool range) noexcept {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return;
  napi_value codeValue = nullptr, messageValue = nullptr, error = nullptr;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &codeValue) != napi_ok) return;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &messageValue) != napi_ok) return;
  const napi_status made = range ? napi_create_range_error(env, codeValue, messageValue, &error)
                                 : napi_create_error(env, codeValue, messageValue, &error);
  if (made == napi_ok) napi_throw(env, error);
}

// Runs an entry point. A JS exception raised while reading (a getter that throws) propagates as
// is; argument errors become Error(code ERR_NODEGRAD_NATIVE), allocation failures
// RangeError(code ERR_NODEGRAD_ALLOC). Nothing escapes: a C++ exception leaving an N-API callback
// aborts the process.
template <typename Fn>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* kernel, Fn&& fn, bool deferrable = false) noexcept {
  const napi_env env = info.Env();
  try {
    Args args(info, kernel, deferrable);
    return fn(args);
  } catch (const ArgError& e) {
    throwJs(env, "ERR_NODEGRAD_NATIVE", e.message.c_str(), false);
  } catch (const deferred::KernelError& e) {
    throwJs(env, "ERR_NODEGRAD_NATIVE", (std::string(kernel) + ": " + e.message).c_str(), false);
  } catch (const Napi::Error& e) {
    try {
      bool pending = false;
      const napi_value value = e.Value();
      if (value && napi_is_exception_pending(env, &pending) == napi_ok && !pending) napi_throw(env, value);
    } catch (...) {}
  } catch (const std::bad_alloc&) {
    char message[160];
    std::snprintf(message, sizeof message, "%s: out of memory for this call's buffers", kernel);
    throwJs(env, "ERR_NODEGRAD_ALLOC", message, true);
  } catch (...) {
    char message[160];
    std::snprintf(message, sizeof message, "%s: unexpected native failure", kernel);
    throwJs(env, "ERR_NODEGRAD_NATIVE", message, false);
  }
  return {};
}

// guarded() for a kernel whose call goes through Args::run, so ng.runAsync can defer it.
template <typename Fn>
Napi::Value guardedKernel(const Napi::CallbackInfo& info, const char* kernel, Fn&& fn) noexcept {
  return guarded(info, kernel, std::forward<Fn>(fn), true);
}

// Registers the neural-network kernels (convolution, pooling, softmax, cross-entropy).
void registerNnFunctions(Napi::Env env, Napi::Object exports);
// Registers the optimizer updates (SGD, Adam/AdamW).
void registerOptimFunctions(Napi::Env env, Napi::Object exports);
// Registers gather, scatter, scatterAdd, indexPut and indexPutAt.
void registerGatherFunctions(Napi::Env env, Napi::Object exports);
// Registers the fused recurrent gate kernels (rnnCell, lstmCell, gruCell and their backward).
void registerRnnFunctions(Napi::Env env, Napi::Object exports);
// Registers the tensor-memory arena's functions (arenaAllocate, arenaRelease, ...).
void registerMemoryFunctions(Napi::Env env, Napi::Object exports);
// Registers the row-normalization kernels (layerNormForward, layerNormBackward).
void registerNormFunctions(Napi::Env env, Napi::Object exports);
// Registers scaled dot-product attention's forward and backward.
void registerAttentionFunctions(Napi::Env env, Napi::Object exports);
// Registers ng.distributed's process group (distInit, distAllReduce, ...; only distAvailable without Gloo).
void registerDistributedFunctions(Napi::Env env, Napi::Object exports);

}  // namespace nodegrad::glue
