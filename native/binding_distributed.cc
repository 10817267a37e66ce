// N-API glue for ng.distributed (native/distributed.h). Every operation queues its work and returns a
// handle (an External tagged as ours); distWait blocks on it, distOnComplete calls back on the JS
// thread. JS keeps the tensors alive until the work completes. Without Gloo (no NODEGRAD_HAVE_GLOO)
// only distAvailable() exists, and reports false.
#include <napi.h>

#include "glue.h"

#ifdef NODEGRAD_HAVE_GLOO
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "distributed.h"
#endif

namespace nodegrad::glue {
namespace {

#ifdef NODEGRAD_HAVE_GLOO
using nodegrad::dist::ElementType;
using nodegrad::dist::Span;
using nodegrad::dist::Work;
using WorkHandle = std::shared_ptr<Work>;

constexpr napi_type_tag kWorkTag = {0x6e6f646567726164ULL, 0x646973747767726bULL};
constexpr int64_t kMaxRank = 1 << 20;

Napi::Value wrapWork(Napi::Env env, WorkHandle work) {
  auto owned = std::make_unique<WorkHandle>(std::move(work));
  auto external = Napi::External<WorkHandle>::New(env, owned.get(), [](Napi::Env /*env*/, WorkHandle* handle) {
    const std::unique_ptr<WorkHandle> release(handle);
  });
  static_cast<void>(owned.release());  // the External's finalizer owns it now
  if (napi_type_tag_object(env, external, &kWorkTag) != napi_ok)
    throw Napi::Error::New(env, "could not tag a work handle");
  return external;
}

WorkHandle unwrapWork(const Args& args, size_t i) {
  const Napi::Value v = args.at(i);
  bool ours = false;
  if (!v.IsExternal() || napi_check_object_type_tag(args.env(), v, &kWorkTag, &ours) != napi_ok || !ours)
    args.fail("work must be a handle returned by a distributed operation");
  return *v.As<Napi::External<WorkHandle>>().Data();
}

ElementType elementType(const ArrayRef& a) {
  if (a.type == napi_float64_array) return ElementType::Float64;
  if (a.type == napi_int32_array) return ElementType::Int32;
  return ElementType::Float32;
}

// A typed array's run of `count` elements from `offset`, checked against its length.
Span bindSpan(Args& args, const ArrayRef& a, int64_t offset, int64_t count) {
  const Buffer b = args.bind(a, checkedAdd(offset, count));
  return {static_cast<char*>(b.data) + offset * static_cast<int64_t>(dist::elementSize(elementType(a))), count};
}

dist::ReduceOp reduceOp(const Args& args, size_t i) {
  const int64_t op = args.integer(i, "op");
  if (op > 3) args.fail("unknown reduce op " + std::to_string(op));
  return static_cast<dist::ReduceOp>(op);
}

int64_t peerRank(const Args& args, size_t i, const char* name) {
  const int64_t rank = args.integer(i, name);
  if (rank >= dist::worldSize())
    args.fail(std::string(name) + " " + std::to_string(rank) + " is not below the world size " +
              std::to_string(dist::worldSize()));
  return rank;
}

// Runs a queueing call: a std::runtime_error (no group, a Gloo failure while posting) becomes an
// ERR_NODEGRAD_DISTRIBUTED error.
template <typename Fn>
Napi::Value queued(const Napi::CallbackInfo& info, const char* name, Fn&& fn) {
  return guarded(info, name, [&](Args& args) -> Napi::Value {
    try {
      return fn(args);
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      const Napi::Error error = Napi::Error::New(args.env(), e.what());
      error.Set("code", Napi::String::New(args.env(), "ERR_NODEGRAD_DISTRIBUTED"));
      throw error;  // NOLINT(cert-err09-cpp,cert-err61-cpp): guarded() rethrows it into JS
    }
  });
}

// distAllReduce(data, offset, count, op)
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  return queued(info, "native distAllReduce", [](Args& args) {
    const ArrayRef a = args.array(0, "data");
    const int64_t offset = args.integer(1, "offset"), count = args.integer(2, "count");
    const dist::ReduceOp op = reduceOp(args, 3);
    return wrapWork(args.env(), dist::allReduce(elementType(a), bindSpan(args, a, offset, count), op));
  });
}

// distBroadcast(data, offset, count, root)
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  return queued(info, "native distBroadcast", [](Args& args) {
    const ArrayRef a = args.array(0, "data");
    const int64_t offset = args.integer(1, "offset"), count = args.integer(2, "count");
    const auto root = static_cast<int>(peerRank(args, 3, "root"));
    return wrapWork(args.env(), dist::broadcast(elementType(a), bindSpan(args, a, offset, count), root));
  });
}

// Reads `list` (one typed array per rank, each of `array`'s kind) and `offsets` at i and i + 1.
std::vector<std::pair<ArrayRef, int64_t>> perRankArrays(const Args& args, size_t i, const ArrayRef& like) {
  if (!args.at(i).IsArray()) args.fail("tensors must be an array of typed arrays");
  const auto list = args.at(i).As<Napi::Array>();
  const std::vector<int64_t> offsets = args.intList(args.at(i + 1), "offsets");
  const int size = dist::worldSize();
  if (list.Length() != static_cast<uint32_t>(size) || offsets.size() != static_cast<size_t>(size))
    args.fail("expected one tensor per rank (" + std::to_string(size) + "), got " + std::to_string(list.Length()));
  std::vector<std::pair<ArrayRef, int64_t>> out;
  for (uint32_t r = 0; r < list.Length(); ++r) {
    out.emplace_back(args.array(list.Get(r), "tensors[r]"), offsets[r]);
    args.sameType(like, out.back().first);
  }
  return out;
}

// distAllGather(input, offset, count, outputs, outputOffsets)
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  return queued(info, "native distAllGather", [](Args& args) {
    const ArrayRef a = args.array(0, "input");
    const int64_t offset = args.integer(1, "offset"), count = args.integer(2, "count");
    const auto outputs = perRankArrays(args, 3, a);
    std::vector<Span> spans;
    spans.reserve(outputs.size());
    for (const auto& [array, at] : outputs) spans.push_back(bindSpan(args, array, at, count));
    return wrapWork(args.env(), dist::allGather(elementType(a), bindSpan(args, a, offset, count), spans));
  });
}

// distReduceScatter(output, offset, count, inputs, inputOffsets, op)
Napi::Value ReduceScatter(const Napi::CallbackInfo& info) {
  return queued(info, "native distReduceScatter", [](Args& args) {
    const ArrayRef a = args.array(0, "output");
    const int64_t offset = args.integer(1, "offset"), count = args.integer(2, "count");
    const auto inputs = perRankArrays(args, 3, a);
    const dist::ReduceOp op = reduceOp(args, 5);
    std::vector<Span> spans;
    spans.reserve(inputs.size());
    for (const auto& [array, at] : inputs) spans.push_back(bindSpan(args, array, at, count));
    return wrapWork(args.env(), dist::reduceScatter(elementType(a), bindSpan(args, a, offset, count), spans, op));
  });
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  return queued(info, "native distBarrier", [](Args& args) { return wrapWork(args.env(), dist::barrier()); });
}

// distSend(data, offset, count, peer) and distRecv(data, offset, count, peer)
template <bool sending>
Napi::Value PointToPoint(const Napi::CallbackInfo& info) {
  return queued(info, sending ? "native distSend" : "native distRecv", [](Args& args) {
    const ArrayRef a = args.array(0, "data");
    const int64_t offset = args.integer(1, "offset"), count = args.integer(2, "count");
    const auto peer = static_cast<int>(peerRank(args, 3, "peer"));
    const Span span = bindSpan(args, a, offset, count);
    return wrapWork(args.env(),
                    sending ? dist::send(elementType(a), span, peer) : dist::recv(elementType(a), span, peer));
  });
}

// distWait(work): blocks until the work ends; throws its error (code ERR_NODEGRAD_DISTRIBUTED).
Napi::Value Wait(const Napi::CallbackInfo& info) {
  return queued(info, "native distWait", [](Args& args) -> Napi::Value {
    const std::string error = unwrapWork(args, 0)->wait();
    if (!error.empty()) throw std::runtime_error(error);
    return args.env().Undefined();
  });
}

Napi::Value IsCompleted(const Napi::CallbackInfo& info) {
  return guarded(info, "native distIsCompleted",
                 [](Args& args) { return Napi::Boolean::New(args.env(), unwrapWork(args, 0)->completed()); });
}

// distOnComplete(work, callback): calls callback(null) or callback(message) on the JS thread once the
// work ends. The pending call keeps the event loop alive.
Napi::Value OnComplete(const Napi::CallbackInfo& info) {
  return guarded(info, "native distOnComplete", [](Args& args) -> Napi::Value {
    const WorkHandle work = unwrapWork(args, 0);
    if (!args.at(1).IsFunction()) args.fail("callback must be a function");
    auto tsfn =
        Napi::ThreadSafeFunction::New(args.env(), args.at(1).As<Napi::Function>(), "nodegrad distributed work", 0, 1);
    work->onComplete([tsfn](const std::string& error) mutable {
      auto message = std::make_unique<std::string>(error);
      const napi_status status =
          tsfn.BlockingCall(message.get(), [](Napi::Env env, Napi::Function callback, std::string* text) {
            const std::unique_ptr<std::string> owned(text);
            try {
              callback.Call({owned->empty() ? env.Null() : Napi::String::New(env, *owned)});
            } catch (...) {}  // a throwing callback stays the callback's problem, not a crash
          });
      if (status == napi_ok) static_cast<void>(message.release());  // the call owns it now
      tsfn.Release();
    });
    return args.env().Undefined();
  });
}

class InitWorker : public Napi::AsyncWorker {
 public:
  InitWorker(Napi::Env env, dist::InitOptions options)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), options_(std::move(options)) {}
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      dist::init(options_);
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown failure during the rendezvous");
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override {
    error.Set("code", Napi::String::New(Env(), "ERR_NODEGRAD_DISTRIBUTED"));
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  dist::InitOptions options_;
};

std::string stringField(const Args& args, const Napi::Object& o, const char* name) {
  const Napi::Value v = args.field(o, name);
  if (!v.IsString()) args.fail(std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// distInit({ rank, worldSize, store: 'tcp' | 'file', host, port, path, timeoutMs, iface }) -> Promise
Napi::Value Init(const Napi::CallbackInfo& info) {
  return guarded(info, "native distInit", [](Args& args) -> Napi::Value {
    const Napi::Object o = args.object(args.at(0), "options");
    dist::InitOptions options;
    const int64_t worldSize = args.integer(o, "worldSize"), rank = args.integer(o, "rank");
    if (worldSize < 1 || worldSize > kMaxRank) args.fail("worldSize must be in [1, 2^20]");
    if (rank >= worldSize) args.fail("rank must be below worldSize");
    options.rank = static_cast<int>(rank);
    options.worldSize = static_cast<int>(worldSize);
    options.fileStore = stringField(args, o, "store") == "file";
    options.host = stringField(args, o, "host");
    options.path = stringField(args, o, "path");
    options.iface = stringField(args, o, "iface");
    const int64_t port = args.integer(o, "port"), timeoutMs = args.integer(o, "timeoutMs");
    if (port > 65535) args.fail("port must be in [0, 65535]");
    if (timeoutMs < 1) args.fail("timeoutMs must be positive");
    options.port = static_cast<int>(port);
    options.timeout = std::chrono::milliseconds(timeoutMs);
    auto* worker = new InitWorker(args.env(), std::move(options));  // NOLINT: an AsyncWorker deletes itself
    worker->Queue();
    return worker->promise();
  });
}

Napi::Value Destroy(const Napi::CallbackInfo& info) {
  return guarded(info, "native distDestroy", [](Args& args) {
    dist::destroy();
    return args.env().Undefined();
  });
}

Napi::Value IsInitialized(const Napi::CallbackInfo& info) {
  return guarded(info, "native distIsInitialized",
                 [](Args& args) { return Napi::Boolean::New(args.env(), dist::initialized()); });
}
#endif

Napi::Value Available(const Napi::CallbackInfo& info) {
#ifdef NODEGRAD_HAVE_GLOO
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace

void registerDistributedFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("distAvailable", Napi::Function::New(env, Available, "distAvailable"));
#ifdef NODEGRAD_HAVE_GLOO
  exports.Set("distInit", Napi::Function::New(env, Init, "distInit"));
  exports.Set("distDestroy", Napi::Function::New(env, Destroy, "distDestroy"));
  exports.Set("distIsInitialized", Napi::Function::New(env, IsInitialized, "distIsInitialized"));
  exports.Set("distAllReduce", Napi::Function::New(env, AllReduce, "distAllReduce"));
  exports.Set("distBroadcast", Napi::Function::New(env, Broadcast, "distBroadcast"));
  exports.Set("distAllGather", Napi::Function::New(env, AllGather, "distAllGather"));
  exports.Set("distReduceScatter", Napi::Function::New(env, ReduceScatter, "distReduceScatter"));
  exports.Set("distBarrier", Napi::Function::New(env, Barrier, "distBarrier"));
  exports.Set("distSend", Napi::Function::New(env, PointToPoint<true>, "distSend"));
  exports.Set("distRecv", Napi::Function::New(env, PointToPoint<false>, "distRecv"));
  exports.Set("distWait", Napi::Function::New(env, Wait, "distWait"));
  exports.Set("distIsCompleted", Napi::Function::New(env, IsCompleted, "distIsCompleted"));
  exports.Set("distOnComplete", Napi::Function::New(env, OnComplete, "distOnComplete"));
#endif
}

}  // namespace nodegrad::glue
