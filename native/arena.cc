// Blocks below 2 MiB are carved, whatever their class, from 8 MiB chunks; larger ones get a mapping
// each. Both are 2 MiB-aligned and advised for transparent huge pages (chunks once the arena maps
// 16 MiB), so a first touch faults in 2 MiB instead of 4 KiB: with 4 KiB pages a LeNet-5 training step (batch 64)
// faulted ~500 pages while the arena grew to its working size, as many as the collector's pace let it. A freed block
// goes to its class's free list while the cached bytes stay under the cap; past it, and on release(), its memory goes
// back to the system (munmap for a block with its own mapping, MADV_DONTNEED inside a chunk, which keeps the address
// for reuse).
#include "arena.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace nodegrad::arena {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kChunkBytes = 4 * kHugePage;
constexpr size_t kOwnMappingBytes = kHugePage;
// The first chunks stay on 4 KiB pages: a process with a few small tensors (a service beside its
// other work) would otherwise hold a 2 MiB page per touched region (+2 MiB RSS for one 256 KiB
// tensor); a training loop's arena outgrows them within its first step.
constexpr size_t kSmallPagesBytes = 2 * kChunkBytes;
// The cap matches the 1 GiB malloc trim threshold the addon used to set: a training step's
// buffers stay cached between steps.
constexpr size_t kDefaultCacheLimit = size_t(1) << 30;
#if defined(__linux__)
// Linux refills MADV_DONTNEED'd private anonymous pages with zeros on the next touch.
constexpr bool kReturnedPagesAreZero = true;
#else
constexpr bool kReturnedPagesAreZero = false;
#endif

// Whole pages up to 16 KiB, then four classes per doubling: a block wastes at most 25%.
size_t classSize(size_t bytes) {
  const size_t pages = (bytes + kPage - 1) / kPage * kPage;
  if (pages <= 4 * kPage) return pages;
  const int top = 63 - __builtin_clzll(pages - 1);  // 2^top < pages <= 2^(top + 1)
  const size_t step = size_t(1) << (top - 2);
  return (pages + step - 1) / step * step;
}

char* mapAligned(size_t bytes, size_t alignment) {
  const size_t span = alignment > kPage ? bytes + alignment : bytes;
  void* const raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  char* const start = static_cast<char*>(raw);
  const auto address = reinterpret_cast<uintptr_t>(raw);
  const size_t skip = (alignment - address % alignment) % alignment;
  char* const aligned = start + skip;
  if (skip > 0) munmap(start, skip);
  if (span > skip + bytes) munmap(aligned + bytes, span - skip - bytes);
  return aligned;
}

// `huge`: advised for transparent huge pages (a first touch then faults in 2 MiB).
char* mapHuge(size_t size, bool huge) {
  char* const block = mapAligned(size, kHugePage);
#if defined(MADV_HUGEPAGE)
  if (huge) madvise(block, size, MADV_HUGEPAGE);
#endif
  return block;
}

struct SizeClass {
  std::vector<char*> resident;  // freed blocks whose pages are still in memory: reused first
  std::vector<char*> returned;  // chunk blocks whose pages went back to the system
};

class Arena {
 public:
  void* allocate(size_t bytes, bool zero, bool allowFresh) {
    const size_t size = classSize(bytes);
    char* block = nullptr;
    bool isZero = false;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      SizeClass& c = classes_[size];
      if (!c.resident.empty()) {
        block = c.resident.back();
        c.resident.pop_back();
        stats_.cachedBytes -= size;
      } else if (!allowFresh) {
        return nullptr;
      } else if (!c.returned.empty()) {
        block = c.returned.back();
        c.returned.pop_back();
        isZero = kReturnedPagesAreZero;
      } else if (size < kOwnMappingBytes) {
        // The rest of a chunk too small for this block stays unused (address space, never touched).
        if (next_ == nullptr || size > static_cast<size_t>(end_ - next_)) {
          next_ = mapHuge(kChunkBytes, stats_.mappedBytes >= kSmallPagesBytes);
          end_ = next_ + kChunkBytes;
          stats_.mappedBytes += kChunkBytes;
        }
        block = next_;
        next_ += size;
        isZero = true;
      }
      if (block != nullptr) stats_.inUseBytes += size;
    }
    if (block == nullptr) {
      block = mapHuge(size, true);
      isZero = true;
      const std::lock_guard<std::mutex> lock(mutex_);
      stats_.mappedBytes += size;
      stats_.inUseBytes += size;
    }
    if (zero && !isZero) std::memset(block, 0, bytes);
    return block;
  }

  void deallocate(void* pointer, size_t bytes) noexcept {
    char* const block = static_cast<char*>(pointer);
    const size_t size = classSize(bytes);
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = classes_.find(size);
    if (found == classes_.end()) return;  // not a block of this arena
    SizeClass& c = found->second;
    stats_.inUseBytes -= size;
    if (stats_.cachedBytes + size <= stats_.cacheLimitBytes && push(c.resident, block)) {
      stats_.cachedBytes += size;
      return;
    }
    giveBack(c, block, size);
  }

  // Returns cached blocks to the system until at most `limit` bytes stay cached.
  size_t trimTo(size_t limit) noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    size_t returned = 0;
    for (auto& [size, c] : classes_) {
      while (stats_.cachedBytes > limit && !c.resident.empty()) {
        giveBack(c, c.resident.back(), size);
        c.resident.pop_back();
        stats_.cachedBytes -= size;
        returned += size;
      }
    }
    return returned;
  }

  size_t setCacheLimit(size_t bytes) noexcept {
    size_t previous = 0;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      previous = stats_.cacheLimitBytes;
      stats_.cacheLimitBytes = bytes;
    }
    trimTo(bytes);
    return previous;
  }

  Stats stats() noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  static bool push(std::vector<char*>& list, char* block) noexcept {
    try {
      list.push_back(block);
      return true;
    } catch (const std::bad_alloc&) {
      return false;
    }
  }

  // Called with the lock held. A chunk block keeps its address (chunks are never unmapped): when even
  // that cannot be recorded, the block's address space is lost, never its memory.
  void giveBack(SizeClass& c, char* block, size_t size) noexcept {
    if (size >= kOwnMappingBytes) {
      munmap(block, size);
      stats_.mappedBytes -= size;
      return;
    }
    madvise(block, size, MADV_DONTNEED);
    push(c.returned, block);
  }

  std::mutex mutex_;
  std::unordered_map<size_t, SizeClass> classes_;
  char* next_ = nullptr;  // the unused rest of the newest chunk
  char* end_ = nullptr;
  Stats stats_{0, 0, 0, kDefaultCacheLimit};
};

// Never destroyed: V8 frees backing stores, which call deallocate, until the process ends.
Arena& instance() {
  static auto* const arena = new Arena();
  return *arena;
}

}  // namespace

void* allocate(size_t bytes, bool zero, bool allowFresh) { return instance().allocate(bytes, zero, allowFresh); }
void deallocate(void* block, size_t bytes) noexcept { instance().deallocate(block, bytes); }
size_t release() noexcept { return instance().trimTo(0); }
size_t setCacheLimit(size_t bytes) noexcept { return instance().setCacheLimit(bytes); }
Stats stats() noexcept { return instance().stats(); }

}  // namespace nodegrad::arena
