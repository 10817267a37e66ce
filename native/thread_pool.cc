// Workers spin briefly after each job (the next kernel usually follows within microseconds), then
// sleep on a condition variable so an idle process does not burn a core. One pool serves every
// Node environment in the process (worker threads included): runs share it under a shared lock,
// and a resize takes the lock exclusively, so it waits for the runs in flight and two resizes
// never join the same threads.
#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace nodegrad {
namespace {

inline void cpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

thread_local bool insideTask = false;

class Pool {
 public:
  explicit Pool(int threads) { start(threads); }
  ~Pool() { stop(); }

  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void resize(int threads) {
    std::unique_lock<std::shared_mutex> exclusive(resizing_);
    if (threads == this->threads()) return;
    stop();
    start(threads);
  }

  void run(int64_t tasks, const std::function<void(int64_t)>& fn) {
    if (tasks <= 0) return;
    if (tasks == 1 || threads() == 1 || insideTask) {
      for (int64_t t = 0; t < tasks; ++t) fn(t);
      return;
    }
    std::shared_lock<std::shared_mutex> shared(resizing_);
    // Each run gets its own Job, so a worker still finishing the previous run can never take a
    // task of this one.
    auto job = std::make_shared<Job>(fn, tasks);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    work(*job);
    while (job->pending.load(std::memory_order_acquire) > 0) cpuRelax();
  }

 private:
  struct Job {
    Job(const std::function<void(int64_t)>& f, int64_t n) : fn(f), count(n), pending(n) {}
    const std::function<void(int64_t)>& fn;
    const int64_t count;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> pending;
  };

  static void work(Job& job) {
    insideTask = true;
    for (;;) {
      const int64_t t = job.next.fetch_add(1, std::memory_order_relaxed);
      if (t >= job.count) break;
      job.fn(t);
      job.pending.fetch_sub(1, std::memory_order_acq_rel);
    }
    insideTask = false;
  }

  void workerLoop() {
    uint64_t seen = generation_.load(std::memory_order_acquire);
    for (;;) {
      // Spin first: back-to-back kernels then cost no futex wake-up.
      bool ready = false;
      for (int i = 0; i < 100000 && !ready; ++i) {
        ready = generation_.load(std::memory_order_acquire) != seen || stopping_.load();
        if (!ready) cpuRelax();
      }
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load() != seen || stopping_.load(); });
        if (stopping_.load()) return;
        seen = generation_.load();
        job = current_;
      }
      if (job) work(*job);
    }
  }

  void start(int threads) {
    stopping_.store(false);
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { workerLoop(); });
    threads_.store(threads, std::memory_order_relaxed);
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
    threads_.store(1, std::memory_order_relaxed);
  }

  std::vector<std::thread> workers_;
  std::atomic<int> threads_{1};
  std::shared_mutex resizing_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::shared_ptr<Job> current_;
};

int defaultThreads() {
  if (const char* env = std::getenv("NODEGRAD_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return std::min(n, 256);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min(hw, 256u));
}

Pool& pool() {
  static Pool instance(defaultThreads());
  return instance;
}

}  // namespace

int numThreads() { return pool().threads(); }

void setNumThreads(int n) { pool().resize(std::max(1, std::min(n, 256))); }

void parallelFor(int64_t tasks, const std::function<void(int64_t)>& fn) { pool().run(tasks, fn); }

void parallelRange(int64_t n, double work, const std::function<void(int64_t, int64_t)>& fn) {
  // Below ~100k operations, waking a worker costs more than it saves.
  const int64_t chunks = work < 1.0e5 ? 1 : std::min<int64_t>(numThreads(), n);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  pool().run(chunks, [&](int64_t c) { fn(n * c / chunks, n * (c + 1) / chunks); });
}

}  // namespace nodegrad
