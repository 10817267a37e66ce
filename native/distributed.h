// ng.distributed's process group over Gloo. This header has no Gloo include, so that the N-API glue
// compiles without Gloo; distributed.cc (compiled only with NODEGRAD_HAVE_GLOO) implements it.
//
// One group per process. Collectives run one at a time on the group's background thread, in the
// order they were queued (a Gloo context runs one operation at a time, and every rank must issue
// them in the same order); point-to-point sends and receives are posted at once and waited for on a
// second thread, so that an isend and an irecv issued in either order on two ranks cannot deadlock.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nodegrad::dist {

enum class ElementType { Float32, Float64, Int32 };
enum class ReduceOp { Sum, Avg, Max, Min };

// The completion of one queued operation: an empty error on success.
class Work {
 public:
  void complete(std::string error);
  // Blocks the calling thread until the operation ends; returns its error ("" on success).
  std::string wait();
  bool completed();
  // Runs fn once the operation ends: on the finishing thread, or at once when it already has.
  void onComplete(std::function<void(const std::string&)> fn);

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  bool completed_ = false;
  std::string error_;
  std::vector<std::function<void(const std::string&)>> callbacks_;
};

struct InitOptions {
  int rank = 0;
  int worldSize = 1;
  bool fileStore = false;  // file:// (path) rather than a TCP store (host, port)
  std::string host;
  int port = 0;
  std::string path;
  std::chrono::milliseconds timeout{300000};
  std::string iface;  // network interface for Gloo's sockets; empty: the one that reaches host
};

// A contiguous run of `count` elements at `data`.
struct Span {
  void* data = nullptr;
  int64_t count = 0;
};

size_t elementSize(ElementType type);

// Rendezvous and connect every pair; blocks (call it off the JS thread). Throws std::runtime_error.
void init(const InitOptions& options);
// Drains the queues and closes the connections (rank 0 keeps serving the store); a no-op without a group.
void destroy();
bool initialized();
// The current group's size; throws without a group.
int worldSize();

// Each returns the operation's Work; they throw std::runtime_error when no group exists. The memory
// behind every Span must stay alive until the Work completes.
std::shared_ptr<Work> allReduce(ElementType type, Span data, ReduceOp op);
std::shared_ptr<Work> broadcast(ElementType type, Span data, int root);
std::shared_ptr<Work> allGather(ElementType type, Span input, const std::vector<Span>& outputs);
std::shared_ptr<Work> reduceScatter(ElementType type, Span output, const std::vector<Span>& inputs, ReduceOp op);
std::shared_ptr<Work> barrier();
std::shared_ptr<Work> send(ElementType type, Span data, int peer);
std::shared_ptr<Work> recv(ElementType type, Span data, int peer);

}  // namespace nodegrad::dist
