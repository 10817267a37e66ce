// N-API glue for the tensor-memory arena (native/arena.h).
//
// The ArrayBuffers are made through V8's BackingStore API rather than
// napi_create_external_arraybuffer: N-API runs that finalizer from a later turn of the event loop,
// so a training or inference loop that never yields would never get a block back. A BackingStore's
// deleter runs as soon as the garbage collector frees the buffer (on any thread; the arena locks),
// and V8 counts the buffer's bytes as external memory for its GC heuristics by itself.
#include <napi.h>
#include <v8.h>

#include <memory>
#include <string>

#include "arena.h"
#include "glue.h"

namespace nodegrad::glue {
namespace {

static_assert(sizeof(napi_value) == sizeof(v8::Local<v8::Value>), "a napi_value is a v8::Local in Node");

void freeBlock(void* data, size_t length, void* /*deleterData*/) { nodegrad::arena::deallocate(data, length); }

// arenaAllocate(bytes, zero): an ArrayBuffer of `bytes` bytes over an arena block, all zero when
// `zero`, else with unspecified contents. The block returns to the arena when the buffer is collected.
Napi::Value ArenaAllocate(const Napi::CallbackInfo& info) {
  return guarded(info, "native arenaAllocate", [&](Args& args) -> Napi::Value {
    const auto bytes = static_cast<size_t>(args.integer(0, "bytes"));
    const bool zero = args.flag(args.at(1));
    if (bytes == 0) return Napi::ArrayBuffer::New(args.env(), 0);
    void* const block = nodegrad::arena::allocate(bytes, zero);
    std::unique_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(block, bytes, freeBlock, nullptr);
    const v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(v8::Isolate::GetCurrent(), std::move(store));
    // Node's own conversion (v8impl::JsValueFromV8LocalValue): a napi_value is the Local's slot.
    return {args.env(), reinterpret_cast<napi_value>(*buffer)};
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
  exports.Set("arenaCacheLimit", Napi::Function::New(env, ArenaCacheLimit, "arenaCacheLimit"));
  exports.Set("arenaStats", Napi::Function::New(env, ArenaStats, "arenaStats"));
}

}  // namespace nodegrad::glue
