// Tensor memory owned by nodegrad: size-classed free lists over anonymous mappings. Freed tensors
// are handed out again without new page faults, so the process's malloc keeps its defaults.
// Thread-safe: every worker thread's addon shares the process's arena, and V8 frees ArrayBuffer
// backing stores (which call deallocate) from its own threads.
#pragma once
#include <cstddef>

namespace nodegrad::arena {

struct Stats {
  size_t inUseBytes;       // blocks handed out and not yet freed, counted at their class size
  size_t cachedBytes;      // freed blocks kept resident for reuse
  size_t mappedBytes;      // address space the arena holds, resident or not
  size_t cacheLimitBytes;  // the high-water mark of cachedBytes
};

// A page-aligned block of at least `bytes` (> 0) bytes, its first `bytes` zero when `zero`.
// Without `allowFresh`, nullptr unless a freed block whose pages are still resident fits (new
// pages fault on first touch). Throws std::bad_alloc when the system has no memory for it.
void* allocate(size_t bytes, bool zero, bool allowFresh = true);
// Gives back a block allocate(bytes, ...) returned.
void deallocate(void* block, size_t bytes) noexcept;
// Returns the memory of every cached block to the system; the bytes returned.
size_t release() noexcept;
// Caps cachedBytes (freed blocks past it go back to the system at once); returns the previous cap.
size_t setCacheLimit(size_t bytes) noexcept;
Stats stats() noexcept;

}  // namespace nodegrad::arena
