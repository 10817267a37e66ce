// Workers spin briefly after each job (the next kernel usually follows within microseconds), then
// sleep on a condition variable so an idle process does not burn a core. Each thread that calls a
// kernel (the main thread, each worker_threads Worker) owns its pool and its size, so a Worker that
// sets one thread leaves the others' pools alone, and pools never share a job or a lock.
#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
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

class Pool;
// Set on a pool's own worker threads: kernels running there see their owner's size.
thread_local const Pool* owner = nullptr;

class Pool {
 public:
  explicit Pool(int threads) { start(threads); }
  ~Pool() { stop(); }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  int threads() const { return threads_; }

  void resize(int threads) {
    if (threads == threads_) return;
    stop();
    start(threads);
  }

  // Only the owning thread calls run, so one job is in flight at a time.
  void run(int64_t tasks, const std::function<void(int64_t)>& fn) {
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
    owner = this;
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
    threads_ = threads;
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
    threads_ = 1;
  }

  std::vector<std::thread> workers_;
  int threads_ = 1;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::shared_ptr<Job> current_;
};

int defaultThreads() {
  static const int threads = [] {
    if (const char* env = std::getenv("NODEGRAD_NUM_THREADS")) {
      const int n = std::atoi(env);
      if (n > 0) return std::min(n, 256);
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(std::min(hw, 256u));
  }();
  return threads;
}

// This thread's size (0: the default) and its pool, started on the first parallel run. The pool
// is destroyed, its workers joined, when the thread exits.
thread_local int requested = 0;
thread_local std::unique_ptr<Pool> ownPool;

}  // namespace

int numThreads() {
  if (owner != nullptr) return owner->threads();
  return requested > 0 ? requested : defaultThreads();
}

void setNumThreads(int n) {
  requested = std::max(1, std::min(n, 256));
  if (ownPool) ownPool->resize(requested);
}

void parallelFor(int64_t tasks, const std::function<void(int64_t)>& fn) {
  if (tasks <= 0) return;
  const int threads = numThreads();
  if (tasks == 1 || threads == 1 || insideTask || owner != nullptr) {
    for (int64_t t = 0; t < tasks; ++t) fn(t);
    return;
  }
  if (!ownPool) ownPool = std::make_unique<Pool>(threads);
  ownPool->run(tasks, fn);
}

void parallelRange(int64_t n, double work, const std::function<void(int64_t, int64_t)>& fn) {
  // Below ~100k operations, waking a worker costs more than it saves.
  const int64_t chunks = work < 1.0e5 ? 1 : std::min<int64_t>(numThreads(), n);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  parallelFor(chunks, [&](int64_t c) { fn(n * c / chunks, n * (c + 1) / chunks); });
}

}  // namespace nodegrad
