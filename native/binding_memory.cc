// N-API glue for the tensor-memory arena (native/arena.h).
//
// The ArrayBuffers are made through V8's BackingStore API rather than
// napi_create_external_arraybuffer: N-API runs that finalizer from a later turn of the event loop,
// so a training or inference loop that never yields would never get a block back. A BackingStore's
// deleter runs as soon as the garbage collector frees the buffer (on any thread; the arena locks),
// and V8 counts the buffer's bytes as external memory for its GC heuristics by itself.
//
// Smaller tensor arrays stay V8's (a [4] tensor's array lives inside the JS heap) and are counted
// through a phantom weak handle each: V8 runs its first-pass callback inside the collection that
// frees the array, so the count is exact in loops that never yield, where a FinalizationRegistry's
// callbacks never run.
#include <napi.h>
#include <v8.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "arena.h"
#include "glue.h"

namespace nodegrad::glue {
namespace {

static_assert(sizeof(napi_value) == sizeof(v8::Local<v8::Value>), "a napi_value is a v8::Local in Node");

// Per-thread accounting of tensor memory, so that ng.memory() in each thread (main or worker) counts
// exactly what its tensors hold: bytes and count of arena blocks and tracked arrays not yet freed by
// the collector.
// JS reads a thread's pair through a BigInt64Array over it (arenaCounters).
struct OwnerCounters {
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> count{0};
};
static_assert(sizeof(std::atomic<int64_t>) == sizeof(int64_t) && std::atomic<int64_t>::is_always_lock_free,
              "JS reads the counters as plain int64 words");
constexpr int kOwners = 256;  // threads beyond it share the last slot
OwnerCounters owners[kOwners];
std::atomic<int> nextOwner{0};

int ownerSlot() {
  thread_local int slot = -1;
  if (slot < 0) slot = std::min(nextOwner.fetch_add(1), kOwners - 1);
  return slot;
}

// Blocks whose tensors JS has dropped (uncounted already): their deleter must not uncount them again.
std::mutex orphanMutex;
std::unordered_map<void*, int>& orphans() {
  static auto* const map = new std::unordered_map<void*, int>();  // never destroyed: deleters run until exit
  return *map;
}

void freeBlock(void* data, size_t length, void* deleterData) {
  bool orphaned = false;
  {
    const std::lock_guard<std::mutex> lock(orphanMutex);
    orphaned = orphans().erase(data) > 0;
  }
  if (!orphaned) {
    OwnerCounters& owner = *static_cast<OwnerCounters*>(deleterData);
    owner.bytes.fetch_sub(static_cast<int64_t>(length));
    owner.count.fetch_sub(1);
  }
  nodegrad::arena::deallocate(data, length);
}

// This thread's tracked arrays: a weak handle and byte count per slot, and the free slots. The
// weak callback gets its slot's entry as parameter: entries are reused and never move.
struct TrackedArray {
  v8::Global<v8::ArrayBufferView> handle;
  int64_t bytes = 0;
  uint32_t slot = 0;
};
struct ArrayTracker {
  std::vector<std::unique_ptr<TrackedArray>> slots;
  std::vector<uint32_t> free;
  OwnerCounters* owner = nullptr;
};
// Never destroyed with the thread: the environment's cleanup hook (before V8's isolate goes)
// resets the handles; at process exit no destructor touches a dead isolate.
thread_local ArrayTracker* tracker = nullptr;

void untrackSlot(ArrayTracker& t, uint32_t slot) {
  TrackedArray& entry = *t.slots[slot];
  entry.handle.Reset();
  t.owner->bytes.fetch_sub(entry.bytes);
  t.owner->count.fetch_sub(1);
  entry.bytes = 0;
  t.free.push_back(slot);
}

// Runs inside the collection that freed the array, on this thread; must only reset the handle.
void arrayCollected(const v8::WeakCallbackInfo<TrackedArray>& info) {
  if (tracker == nullptr) return;
  untrackSlot(*tracker, info.GetParameter()->slot);
}

void dropTracker(void* /*unused*/) {
  if (tracker == nullptr) return;
  for (const auto& entry : tracker->slots) entry->handle.Reset();
  delete tracker;
  tracker = nullptr;
}

// trackArray(array): counts the typed array's bytes as this thread's live tensor memory until it is
// collected or untrackArray(slot) runs; returns the slot. Raw N-API: it runs once per small tensor.
napi_value TrackArray(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg = nullptr;
  napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr);
  bool isTypedArray = false;
  if (argc < 1 || napi_is_typedarray(env, arg, &isTypedArray) != napi_ok || !isTypedArray) {
    napi_throw_type_error(env, "ERR_NODEGRAD_NATIVE", "native trackArray: expected a typed array");
    return nullptr;
  }
  if (tracker == nullptr) {
    tracker = new ArrayTracker();
    tracker->owner = &owners[ownerSlot()];
    napi_add_env_cleanup_hook(env, dropTracker, nullptr);
  }
  ArrayTracker& t = *tracker;
  v8::Local<v8::Value> value;
  std::memcpy(static_cast<void*>(&value), static_cast<const void*>(&arg), sizeof(value));
  const v8::Local<v8::ArrayBufferView> array = value.As<v8::ArrayBufferView>();
  uint32_t slot = 0;
  try {
    if (t.free.empty()) {
      t.slots.push_back(std::make_unique<TrackedArray>());
      t.free.reserve(t.slots.size());
      slot = static_cast<uint32_t>(t.slots.size() - 1);
      t.slots.back()->slot = slot;
    } else {
      slot = t.free.back();
      t.free.pop_back();
    }
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, "ERR_NODEGRAD_NATIVE", "native trackArray: out of memory");
    return nullptr;
  }
  TrackedArray& entry = *t.slots[slot];
  entry.bytes = static_cast<int64_t>(array->ByteLength());
  entry.handle.Reset(v8::Isolate::GetCurrent(), array);
  entry.handle.SetWeak(&entry, arrayCollected, v8::WeakCallbackType::kParameter);
  t.owner->bytes.fetch_add(entry.bytes);
  t.owner->count.fetch_add(1);
  napi_value result = nullptr;
  napi_create_uint32(env, slot, &result);
  return result;
}

// untrackArray(slot): stops counting a tracked array now (its tensor was disposed or recycled).
napi_value UntrackArray(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg = nullptr;
  napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr);
  uint32_t slot = 0;
  if (argc < 1 || napi_get_value_uint32(env, arg, &slot) != napi_ok || tracker == nullptr ||
      slot >= tracker->slots.size() || tracker->slots[slot]->handle.IsEmpty()) {
    napi_throw_range_error(env, "ERR_NODEGRAD_NATIVE", "native untrackArray: expected the slot of a tracked array");
    return nullptr;
  }
  untrackSlot(*tracker, slot);
  return nullptr;
}

// arenaAllocate(bytes, zero, reuseOnly?): an ArrayBuffer of `bytes` bytes over an arena block, all
// zero when `zero`, else with unspecified contents; with `reuseOnly`, null unless a freed block with
// resident pages fits. The block returns to the arena when the buffer is collected.
Napi::Value ArenaAllocate(const Napi::CallbackInfo& info) {
  return guarded(info, "native arenaAllocate", [&](Args& args) -> Napi::Value {
    const auto bytes = static_cast<size_t>(args.integer(0, "bytes"));
    const bool zero = args.flag(args.at(1));
    const bool reuseOnly = args.present(2) && args.flag(args.at(2));
    if (bytes == 0) return Napi::ArrayBuffer::New(args.env(), 0);
    void* const block = nodegrad::arena::allocate(bytes, zero, !reuseOnly);
    if (block == nullptr) return args.env().Null();
    const int slot = ownerSlot();
    owners[slot].bytes.fetch_add(static_cast<int64_t>(bytes));
    owners[slot].count.fetch_add(1);
    std::unique_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(block, bytes, freeBlock, &owners[slot]);
    const v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(v8::Isolate::GetCurrent(), std::move(store));
    // Node's own conversion (v8impl::JsValueFromV8LocalValue): a napi_value is the Local's slot.
    return {args.env(), reinterpret_cast<napi_value>(*buffer)};
  });
}

// arenaCounters(): an ArrayBuffer over this thread's { bytes, count } int64 pair (never freed).
Napi::Value ArenaCounters(const Napi::CallbackInfo& info) {
  return guarded(info, "native arenaCounters", [&](Args& args) -> Napi::Value {
    return Napi::ArrayBuffer::New(args.env(), &owners[ownerSlot()], sizeof(OwnerCounters));
  });
}

// arenaOrphan(buffer): uncounts an arena ArrayBuffer JS has dropped without the collector's help
// (a buffer pool emptied); its block is freed, uncounted, when the collector frees the buffer.
Napi::Value ArenaOrphan(const Napi::CallbackInfo& info) {
  return guarded(info, "native arenaOrphan", [&](Args& args) -> Napi::Value {
    const Napi::Value value = args.at(0);
    if (!value.IsArrayBuffer()) args.fail("expected an ArrayBuffer");
    auto buffer = value.As<Napi::ArrayBuffer>();
    void* const data = buffer.Data();
    const auto length = static_cast<int64_t>(buffer.ByteLength());
    if (data == nullptr || length == 0) return args.env().Undefined();
    const int slot = ownerSlot();
    {
      const std::lock_guard<std::mutex> lock(orphanMutex);
      if (!orphans().emplace(data, slot).second) return args.env().Undefined();
    }
    owners[slot].bytes.fetch_sub(length);
    owners[slot].count.fetch_sub(1);
    return args.env().Undefined();
  });
}

// arenaRelease(): returns the memory of the arena's free blocks to the system; the bytes returned.
Napi::Value ArenaRelease(const Napi::CallbackInfo& info) {
  return guarded(info, "native arenaRelease", [&](Args& args) {
    return Napi::Number::New(args.env(), static_cast<double>(nodegrad::arena::release()));
  });
}

// arenaCacheLimit(bytes?): the bytes of free blocks the arena keeps for reuse; with an argument,
// sets it (returning what it was) and returns what is cached past it to the system.
Napi::Value ArenaCacheLimit(const Napi::CallbackInfo& info) {
  return guarded(info, "native arenaCacheLimit", [&](Args& args) {
    if (!args.present(0)) {
      return Napi::Number::New(args.env(), static_cast<double>(nodegrad::arena::stats().cacheLimitBytes));
    }
    const auto bytes = static_cast<size_t>(args.integer(0, "bytes"));
    return Napi::Number::New(args.env(), static_cast<double>(nodegrad::arena::setCacheLimit(bytes)));
  });
}

// arenaStats(): { inUseBytes, cachedBytes, mappedBytes, cacheLimitBytes }.
Napi::Value ArenaStats(const Napi::CallbackInfo& info) {
  return guarded(info, "native arenaStats", [&](Args& args) {
    const nodegrad::arena::Stats s = nodegrad::arena::stats();
    Napi::Object out = Napi::Object::New(args.env());
    out.Set("inUseBytes", static_cast<double>(s.inUseBytes));
    out.Set("cachedBytes", static_cast<double>(s.cachedBytes));
    out.Set("mappedBytes", static_cast<double>(s.mappedBytes));
    out.Set("cacheLimitBytes", static_cast<double>(s.cacheLimitBytes));
    return out;
  });
}

}  // namespace

void registerMemoryFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("arenaAllocate", Napi::Function::New(env, ArenaAllocate, "arenaAllocate"));
  exports.Set("arenaRelease", Napi::Function::New(env, ArenaRelease, "arenaRelease"));
  exports.Set("arenaCounters", Napi::Function::New(env, ArenaCounters, "arenaCounters"));
  exports.Set("arenaOrphan", Napi::Function::New(env, ArenaOrphan, "arenaOrphan"));
  exports.Set("arenaCacheLimit", Napi::Function::New(env, ArenaCacheLimit, "arenaCacheLimit"));
  exports.Set("arenaStats", Napi::Function::New(env, ArenaStats, "arenaStats"));
  const auto setRaw = [&](const char* name, napi_callback callback) {
    napi_value fn = nullptr;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, nullptr, &fn);
    exports.Set(name, Napi::Value(env, fn));
  };
  setRaw("trackArray", TrackArray);
  setRaw("untrackArray", UntrackArray);
}

}  // namespace nodegrad::glue
