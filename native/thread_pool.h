// One persistent pool of worker threads for every kernel. The calling thread runs tasks too, so a
// pool of n threads has n - 1 workers. Sized from NODEGRAD_NUM_THREADS, else the core count.
#pragma once
#include <cstdint>
#include <functional>

namespace nodegrad {

int numThreads();
void setNumThreads(int n);

// Runs fn(task) for every task in [0, tasks) and returns when all are done. Tasks are handed out
// dynamically. Called from inside a task it runs serially (no nested parallelism).
void parallelFor(int64_t tasks, const std::function<void(int64_t)>& fn);

// Splits [0, n) into numThreads() contiguous chunks when `work` (a rough flop or element count)
// is large enough to pay for waking the workers; fn(begin, end) runs once per chunk.
void parallelRange(int64_t n, double work, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace nodegrad
