// A persistent pool of worker threads per calling thread (the main thread, each worker_threads
// Worker). The calling thread runs tasks too, so a pool of n threads has n - 1 workers. Each
// thread's size defaults to NODEGRAD_NUM_THREADS, else the core count (the JS layer sets 1 in a
// Worker); setNumThreads changes the calling thread's alone.
#pragma once
#include <cstdint>
#include <functional>

namespace nodegrad {

// The calling thread's pool size (inside a task: the size of the pool running it).
int numThreads();
// Resizes the calling thread's pool; other threads' pools are left as they are.
void setNumThreads(int n);

// Runs fn(task) for every task in [0, tasks) and returns when all are done. Tasks are handed out
// dynamically. Called from inside a task it runs serially (no nested parallelism).
void parallelFor(int64_t tasks, const std::function<void(int64_t)>& fn);

// Splits [0, n) into numThreads() contiguous chunks when `work` (a rough flop or element count)
// is large enough to pay for waking the workers; fn(begin, end) runs once per chunk.
void parallelRange(int64_t n, double work, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace nodegrad
