// The recording and the thread that replays it (see deferred.h). Each JS thread (the main thread,
// each worker_threads Worker) has its own recording and its own replay thread, whose kernel pool is
// sized like the caller's when each batch starts. A batch settles its Promise through a
// thread-safe function made for it, which also keeps the event loop alive while the batch runs.
#include "deferred.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <utility>

#include "glue.h"
#include "thread_pool.h"

namespace nodegrad::deferred {
namespace {

struct Command {
  std::string name;
  std::function<void()> kernel;
};

struct Batch {
  uint64_t id = 0;
  std::vector<Command> commands;
  std::vector<napi_ref> refs;
  int threads = 1;
  napi_deferred promise = nullptr;
  napi_threadsafe_function done = nullptr;
  std::string error;  // the first failure's message; the kernels after it are skipped
  bool outOfMemory = false;
};

// This thread's recording; null when it is not recording.
thread_local std::unique_ptr<Batch> recordingBatch;
thread_local uint64_t nextBatchId = 0;

// The byte ranges [begin, end) each unsettled batch's kernels read or write, by batch id: JS asks
// (deferPending) before it reads values or reuses a buffer.
struct Range {
  uintptr_t begin, end;
};
thread_local std::map<uint64_t, std::vector<Range>> pendingRanges;

size_t elementBytes(napi_typedarray_type t) {
  switch (t) {
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      return 8;
    case napi_float32_array:
    case napi_int32_array:
    case napi_uint32_array:
      return 4;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    default:
      return 1;
  }
}

// The bytes a typed array spans; empty when it is not one.
Range rangeOf(napi_env env, napi_value array) {
  napi_typedarray_type type = napi_uint8_array;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, array, &type, &length, &data, nullptr, nullptr) != napi_ok || data == nullptr)
    return {0, 0};
  const auto begin = reinterpret_cast<uintptr_t>(data);
  return {begin, begin + length * elementBytes(type)};
}

// Runs the kernels of a batch in order; a failure stops the batch and names its kernel.
void runCommands(Batch& batch) {
  batch.error.clear();
  batch.outOfMemory = false;
  for (Command& c : batch.commands) {
    try {
      c.kernel();
    } catch (const KernelError& e) {
      batch.error = c.name + ": " + e.message;
    } catch (const glue::ArgError& e) {
      batch.error = e.message;
    } catch (const std::bad_alloc&) {
      batch.error = c.name + ": out of memory for this call's buffers";
      batch.outOfMemory = true;
    } catch (...) {
      batch.error = c.name + ": unexpected native failure";
    }
    if (!batch.error.empty()) break;
  }
}

void execute(Batch& batch) {
  nodegrad::setNumThreads(batch.threads);
  runCommands(batch);
  batch.commands.clear();
}

// On the JS thread: drops the batch's references and settles its Promise.
void settle(napi_env env, napi_value /*callback*/, void* /*context*/, void* data) {
  const std::unique_ptr<Batch> batch(static_cast<Batch*>(data));
  pendingRanges.erase(batch->id);
  if (env == nullptr) return;  // the environment is shutting down: nothing left to settle
  for (const napi_ref ref : batch->refs) napi_delete_reference(env, ref);
  if (batch->error.empty()) {
    napi_value undefined = nullptr;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, batch->promise, undefined);
    return;
  }
  napi_value code = nullptr, message = nullptr, error = nullptr;
  napi_create_string_utf8(env, batch->outOfMemory ? "ERR_NODEGRAD_ALLOC" : "ERR_NODEGRAD_NATIVE", NAPI_AUTO_LENGTH,
                          &code);
  napi_create_string_utf8(env, batch->error.c_str(), NAPI_AUTO_LENGTH, &message);
  if (batch->outOfMemory)
    napi_create_range_error(env, code, message, &error);
  else
    napi_create_error(env, code, message, &error);
  napi_reject_deferred(env, batch->promise, error);
}

// One replay thread per JS thread, started by its first flush and joined when the JS thread ends.
class Replayer {
 public:
  Replayer() : thread_([this] { loop(); }) {}
  ~Replayer() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  void submit(std::unique_ptr<Batch> batch) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(batch));
    }
    wake_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::unique_ptr<Batch> batch;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;  // the JS thread is gone: nobody awaits the rest
        batch = std::move(queue_.front());
        queue_.pop_front();
      }
      execute(*batch);
      const napi_threadsafe_function done = batch->done;
      Batch* const raw = batch.release();
      if (napi_call_threadsafe_function(done, raw, napi_tsfn_blocking) != napi_ok) delete raw;
      napi_release_threadsafe_function(done, napi_tsfn_release);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Batch>> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

Replayer& replayer() {
  thread_local Replayer instance;
  return instance;
}

// deferBegin(): starts recording this thread's deferrable kernel calls.
Napi::Value DeferBegin(const Napi::CallbackInfo& info) {
  return glue::guarded(info, "native deferBegin", [&](glue::Args& args) {
    if (recordingBatch) args.fail("this thread is already recording");
    recordingBatch = std::make_unique<Batch>();
    recordingBatch->id = nextBatchId++;
    return args.env().Undefined();
  });
}

// deferFlush(): stops recording; a Promise that resolves once the recorded kernels ran on the
// replay thread, or rejects with the first kernel failure (code ERR_NODEGRAD_NATIVE or _ALLOC).
Napi::Value DeferFlush(const Napi::CallbackInfo& info) {
  return glue::guarded(info, "native deferFlush", [&](glue::Args& args) -> Napi::Value {
    if (!recordingBatch) args.fail("this thread is not recording");
    std::unique_ptr<Batch> batch = std::move(recordingBatch);
    const napi_env env = args.env();
    napi_value promise = nullptr;
    if (napi_create_promise(env, &batch->promise, &promise) != napi_ok) args.fail("could not create a Promise");
    if (batch->commands.empty()) {
      settle(env, nullptr, nullptr, batch.release());
      return {env, promise};
    }
    napi_value name = nullptr;
    napi_create_string_utf8(env, "nodegrad.runAsync", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr, settle,
                                        &batch->done) != napi_ok) {
      batch->error = "native deferFlush: could not start the replay";
      settle(env, nullptr, nullptr, batch.release());
      return {env, promise};
    }
    batch->threads = nodegrad::numThreads();
    replayer().submit(std::move(batch));
    return {env, promise};
  });
}

// deferPending(array): whether a recorded kernel not yet run reads or writes the array's bytes.
Napi::Value DeferPending(const Napi::CallbackInfo& info) {
  return glue::guarded(info, "native deferPending", [&](glue::Args& args) {
    if (!args.at(0).IsTypedArray()) args.fail("expected a typed array");
    const Range r = rangeOf(args.env(), args.at(0));
    bool overlaps = false;
    for (const auto& [id, ranges] : pendingRanges)
      for (const Range& p : ranges) overlaps = overlaps || (r.begin < p.end && p.begin < r.end);
    return Napi::Boolean::New(args.env(), overlaps);
  });
}

// A kept recording (deferKeep): its kernels run again, in order, each time planRun is called.
struct Plan {
  std::unique_ptr<Batch> batch;
  napi_env env = nullptr;
  double bytes = 0;  // of the distinct arrays its kernels read or write
  void free() {
    if (!batch) return;
    for (const napi_ref ref : batch->refs) napi_delete_reference(env, ref);
    batch.reset();
  }
};

Plan& planOf(glue::Args& args) {
  if (!args.at(0).IsExternal()) args.fail("expected a plan made by deferKeep()");
  Plan& plan = *args.at(0).As<Napi::External<Plan>>().Data();
  if (!plan.batch) args.fail("the plan was freed");
  return plan;
}

// deferKeep(): stops recording and keeps the recorded kernels as a plan (an External) instead of
// running them; the arrays they read and write stay referenced until planFree or collection.
Napi::Value DeferKeep(const Napi::CallbackInfo& info) {
  return glue::guarded(info, "native deferKeep", [&](glue::Args& args) -> Napi::Value {
    if (!recordingBatch) args.fail("this thread is not recording");
    auto plan = std::make_unique<Plan>();
    plan->batch = std::move(recordingBatch);
    plan->env = args.env();
    std::vector<Range> ranges = std::move(pendingRanges[plan->batch->id]);
    pendingRanges.erase(plan->batch->id);
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
    uintptr_t covered = 0;  // the end of the ranges counted so far: overlaps count once
    for (const Range& r : ranges) {
      if (r.end <= covered) continue;
      plan->bytes += static_cast<double>(r.end - std::max(r.begin, covered));
      covered = r.end;
    }
    // The External owns the plan from here: its finalizer frees it.
    return Napi::External<Plan>::New(args.env(), plan.release(), [](Napi::Env /*env*/, Plan* kept) {
      kept->free();
      delete kept;
    });
  });
}

// planRun(plan): runs the plan's kernels now, on this thread and its kernel pool; throws the first
// failure (ERR_NODEGRAD_NATIVE, or ERR_NODEGRAD_ALLOC when out of memory).
Napi::Value PlanRun(const Napi::CallbackInfo& info) {
  return glue::guarded(info, "native planRun", [&](glue::Args& args) {
    Batch& batch = *planOf(args).batch;
    runCommands(batch);
    if (batch.outOfMemory) throw std::bad_alloc();
    if (!batch.error.empty()) throw glue::ArgError{batch.error};
    return args.env().Undefined();
  });
}

// planBytes(plan): the bytes of the distinct arrays the plan's kernels read or write.
Napi::Value PlanBytes(const Napi::CallbackInfo& info) {
  return glue::guarded(info, "native planBytes",
                       [&](glue::Args& args) { return Napi::Number::New(args.env(), planOf(args).bytes); });
}

// planFree(plan): drops the plan's kernels and its references to their arrays.
Napi::Value PlanFree(const Napi::CallbackInfo& info) {
  return glue::guarded(info, "native planFree", [&](glue::Args& args) {
    planOf(args).free();
    return args.env().Undefined();
  });
}

}  // namespace

bool recording() noexcept { return recordingBatch != nullptr; }

void enqueue(napi_env env, const std::string& name, std::function<void()> kernel,
             const std::vector<napi_value>& arrays) {
  Batch& batch = *recordingBatch;
  batch.refs.reserve(batch.refs.size() + arrays.size());
  std::vector<Range>& ranges = pendingRanges[batch.id];
  for (const napi_value array : arrays) {
    napi_ref ref = nullptr;
    if (napi_create_reference(env, array, 1, &ref) != napi_ok) throw glue::ArgError{name + ": could not defer"};
    batch.refs.push_back(ref);
    const Range r = rangeOf(env, array);
    if (r.end > r.begin) ranges.push_back(r);
  }
  batch.commands.push_back({name, std::move(kernel)});
}

void registerFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("deferBegin", Napi::Function::New(env, DeferBegin, "deferBegin"));
  exports.Set("deferFlush", Napi::Function::New(env, DeferFlush, "deferFlush"));
  exports.Set("deferPending", Napi::Function::New(env, DeferPending, "deferPending"));
  exports.Set("deferKeep", Napi::Function::New(env, DeferKeep, "deferKeep"));
  exports.Set("planRun", Napi::Function::New(env, PlanRun, "planRun"));
  exports.Set("planFree", Napi::Function::New(env, PlanFree, "planFree"));
  exports.Set("planBytes", Napi::Function::New(env, PlanBytes, "planBytes"));
}

}  // namespace nodegrad::deferred
