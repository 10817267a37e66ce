// Deferred kernels for ng.runAsync. While a JS thread records, each deferrable binding validates
// and binds its arguments as usual, then appends its kernel call (a closure over plain values and
// raw pointers) to the thread's recording instead of running it; flushing hands the recording to a
// thread of this JS thread's own, which runs the kernels in order and settles a Promise. Keeping
// the recording instead makes a plan that runs the same kernels again, synchronously, on demand.
#pragma once
#include <napi.h>

#include <functional>
#include <string>
#include <vector>

namespace nodegrad::deferred {

// Thrown by a kernel closure whose checks read values (indices in range): the message, without the
// kernel's name, which the caller prefixes.
struct KernelError {
  std::string message;
};

// Whether this thread is recording kernels.
bool recording() noexcept;

// Appends `kernel` to this thread's recording; `arrays` are the typed arrays it reads or writes,
// referenced until it has run so the collector cannot free them.
void enqueue(napi_env env, const std::string& name, std::function<void()> kernel,
             const std::vector<napi_value>& arrays);

// Registers deferBegin(), deferFlush(), deferPending() and the kept plans' deferKeep(), planRun(),
// planBytes(), planFree().
void registerFunctions(Napi::Env env, Napi::Object exports);

}  // namespace nodegrad::deferred
