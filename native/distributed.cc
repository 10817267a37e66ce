// The process group over Gloo (distributed.h): rendezvous, the two operation queues, the collectives.
#include "distributed.h"

#include <arpa/inet.h>
#include <gloo/allgather.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/transport/tcp/device.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <thread>
#include <utility>

#include "dist_store.h"

namespace nodegrad::dist {

void Work::complete(std::string error) {
  std::vector<std::function<void(const std::string&)>> callbacks;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    completed_ = true;
    error_ = std::move(error);
    callbacks.swap(callbacks_);
  }
  done_.notify_all();
  for (auto& fn : callbacks) fn(error_);
}

std::string Work::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return completed_; });
  return error_;
}

bool Work::completed() {
  const std::lock_guard<std::mutex> lock(mutex_);
  return completed_;
}

void Work::onComplete(std::function<void(const std::string&)> fn) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!completed_) {
      callbacks_.push_back(std::move(fn));
      return;
    }
  }
  fn(error_);
}

size_t elementSize(ElementType type) { return type == ElementType::Float64 ? 8 : 4; }

namespace {

// A thread that runs queued jobs one at a time, in order; stop() runs what is queued, then joins.
class Worker {
 public:
  Worker() : thread_([this] { run(); }) {}
  ~Worker() { stop(); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  std::shared_ptr<Work> post(std::function<void()> job) {
    auto work = std::make_shared<Work>();
    bool queued = false;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      queued = !stopping_;
      if (queued) queue_.emplace_back(std::move(job), work);
    }
    if (!queued) work->complete("the process group was destroyed");
    wake_.notify_one();
    return work;
  }

  void stop() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    for (;;) {
      std::pair<std::function<void()>, std::shared_ptr<Work>> item;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      std::string error;
      try {
        item.first();
      } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "unknown failure";
      } catch (...) {
        error = "unknown failure";
      }
      item.second->complete(std::move(error));
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::function<void()>, std::shared_ptr<Work>>> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members it reads exist
};

struct Group {
  int rank = 0;
  int size = 1;
  std::chrono::milliseconds timeout{0};
  std::unique_ptr<KeyValueStore> store;
  std::shared_ptr<gloo::transport::Device> device;
  std::shared_ptr<gloo::rendezvous::Context> context;
  // Read and written on the collective thread only.
  uint32_t nextTag = 0;
  std::string failure;  // set once a collective fails: the context is unusable after that
  // Last: their threads stop (draining their queues) before anything above goes away.
  Worker collectives;
  Worker pointToPoint;
};

std::mutex groupMutex;
// Never destroyed: a process that exits without destroyProcessGroup must not join a worker blocked in
// a collective (nor tear Gloo down under it) from a static destructor; the OS closes its sockets.
std::shared_ptr<Group>& current = *new std::shared_ptr<Group>();  // NOLINT: never destroyed
int generation = 0;  // groups made so far: each rendezvous uses its own key prefix
// Rank 0's store outlives its groups (until the process exits): ranks that destroy and make a group
// again, each at its own moment, still meet at the same store, each group under its own prefix.
std::unique_ptr<StoreServer>& server = *new std::unique_ptr<StoreServer>();  // NOLINT: never destroyed
int serverPort = -1;

std::shared_ptr<Group> currentGroup() {
  const std::lock_guard<std::mutex> lock(groupMutex);
  if (!current) throw std::runtime_error("the default process group is not initialized");
  return current;
}

// The local address of the interface whose route reaches host (no packet is sent).
std::string localAddressFor(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return "";
  std::string address;
  const int fd = ::socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = local.ss_family == AF_INET6
                          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&local)->sin6_addr)
                          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&local)->sin_addr);
    if (::inet_ntop(local.ss_family, raw, text, sizeof text) != nullptr) address = text;
  }
  if (fd >= 0) ::close(fd);
  ::freeaddrinfo(found);
  return address;
}

gloo::transport::tcp::attr deviceAttributes(const InitOptions& options) {
  gloo::transport::tcp::attr attr;
  if (!options.iface.empty()) {
    attr.iface = options.iface;
    return attr;
  }
  if (!options.fileStore) attr.hostname = localAddressFor(options.host, options.port);
  if (attr.hostname.empty()) {
    char name[256] = {};
    addrinfo* found = nullptr;
    const bool resolves =
        ::gethostname(name, sizeof name - 1) == 0 && ::getaddrinfo(name, nullptr, nullptr, &found) == 0;
    if (found != nullptr) ::freeaddrinfo(found);
    attr.hostname = resolves ? name : "127.0.0.1";
  }
  return attr;
}

template <typename T>
gloo::AllreduceOptions::Func reduceFunction(ReduceOp op) {
  using Fn = void (*)(void*, const void*, const void*, size_t);
  switch (op) {
    case ReduceOp::Max:
      return static_cast<Fn>(&gloo::max<T>);
    case ReduceOp::Min:
      return static_cast<Fn>(&gloo::min<T>);
    default:
      return static_cast<Fn>(&gloo::sum<T>);
  }
}

// avg: the sum divided by the world size (int32 rounds toward zero, as integer division does).
template <typename T>
void divide(T* data, int64_t count, int size) {
  for (int64_t i = 0; i < count; ++i) data[i] = static_cast<T>(data[i] / static_cast<T>(size));
}

template <typename Fn>
void withType(ElementType type, Fn&& fn) {
  switch (type) {
    case ElementType::Float32:
      fn(float{});
      return;
    case ElementType::Float64:
      fn(double{});
      return;
    case ElementType::Int32:
      fn(int32_t{});
      return;
  }
}

template <typename T>
void allReduceRaw(Group& g, uint32_t tag, T* data, int64_t count, ReduceOp op) {
  if (count == 0) return;
  gloo::AllreduceOptions options(g.context);
  options.setOutput<T>(data, static_cast<size_t>(count));
  options.setReduceFunction(reduceFunction<T>(op));
  options.setTag(tag);
  options.setTimeout(g.timeout);
  gloo::allreduce(options);
  if (op == ReduceOp::Avg) divide(data, count, g.size);
}

// Queues a collective: it fails at once when an earlier one broke the group.
std::shared_ptr<Work> collective(std::function<void(Group&, uint32_t tag)> body) {
  const std::shared_ptr<Group> group = currentGroup();
  Group* const g = group.get();  // the worker lives inside the group: g outlives every job
  return g->collectives.post([g, body = std::move(body)] {
    if (!g->failure.empty()) throw std::runtime_error("the process group failed earlier: " + g->failure);
    try {
      body(*g, g->nextTag++);
    } catch (const std::exception& e) {
      g->failure = e.what();
      throw;
    }
  });
}

constexpr uint64_t kPointToPointSlot = 0;

std::shared_ptr<Work> pointToPoint(bool sending, ElementType type, Span data, int peer) {
  const std::shared_ptr<Group> group = currentGroup();
  const size_t bytes = static_cast<size_t>(data.count) * elementSize(type);
  if (bytes == 0) return group->pointToPoint.post([] {});
  std::shared_ptr<gloo::transport::UnboundBuffer> buffer = group->context->createUnboundBuffer(data.data, bytes);
  if (sending)
    buffer->send(peer, kPointToPointSlot);
  else
    buffer->recv(peer, kPointToPointSlot);
  const std::chrono::milliseconds timeout = group->timeout;
  return group->pointToPoint.post([buffer, sending, timeout] {
    if (sending)
      buffer->waitSend(timeout);
    else
      buffer->waitRecv(timeout);
  });
}

}  // namespace

void init(const InitOptions& options) {
  int made = 0;
  {
    const std::lock_guard<std::mutex> lock(groupMutex);
    if (current) throw std::runtime_error("the default process group is already initialized");
    made = ++generation;
  }
  auto group = std::make_shared<Group>();
  group->rank = options.rank;
  group->size = options.worldSize;
  group->timeout = options.timeout;
  std::string where;
  if (options.fileStore) {
    group->store = openFileStore(options.path);
    where = "file://" + options.path;
  } else {
    if (options.rank == 0 && serverPort != options.port) {
      const std::lock_guard<std::mutex> lock(groupMutex);
      server.reset();
      serverPort = -1;
      server = std::make_unique<StoreServer>(options.port);
      serverPort = options.port;
    }
    group->store = connectTcpStore(options.host, options.port, options.timeout);
    where = "tcp://" + options.host + ":" + std::to_string(options.port);
  }
  RendezvousStore store(*group->store, "nodegrad/" + std::to_string(made) + "/", options.worldSize, options.timeout,
                        where);
  group->device = gloo::transport::tcp::CreateDevice(deviceAttributes(options));
  group->context = std::make_shared<gloo::rendezvous::Context>(options.rank, options.worldSize);
  group->context->setTimeout(options.timeout);
  group->context->connectFullMesh(store, group->device);
  const std::lock_guard<std::mutex> lock(groupMutex);
  current = std::move(group);
}

void destroy() {
  std::shared_ptr<Group> group;
  {
    const std::lock_guard<std::mutex> lock(groupMutex);
    group.swap(current);
  }
  if (!group) return;
  group->collectives.stop();
  group->pointToPoint.stop();
}

bool initialized() {
  const std::lock_guard<std::mutex> lock(groupMutex);
  return current != nullptr;
}

int worldSize() { return currentGroup()->size; }

std::shared_ptr<Work> allReduce(ElementType type, Span data, ReduceOp op) {
  return collective([=](Group& g, uint32_t tag) {
    withType(type, [&](auto tagType) {
      using T = decltype(tagType);
      allReduceRaw(g, tag, static_cast<T*>(data.data), data.count, op);
    });
  });
}

std::shared_ptr<Work> broadcast(ElementType type, Span data, int root) {
  return collective([=](Group& g, uint32_t tag) {
    if (data.count == 0) return;
    gloo::BroadcastOptions options(g.context);
    withType(type, [&](auto tagType) {
      using T = decltype(tagType);
      options.setOutput<T>(static_cast<T*>(data.data), static_cast<size_t>(data.count));
    });
    options.setRoot(root);
    options.setTag(tag);
    options.setTimeout(g.timeout);
    gloo::broadcast(options);
  });
}

std::shared_ptr<Work> allGather(ElementType type, Span input, const std::vector<Span>& outputs) {
  return collective([=](Group& g, uint32_t tag) {
    if (input.count == 0) return;
    const size_t bytes = static_cast<size_t>(input.count) * elementSize(type);
    std::vector<char> gathered(bytes * static_cast<size_t>(g.size));
    gloo::AllgatherOptions options(g.context);
    withType(type, [&](auto tagType) {
      using T = decltype(tagType);
      options.setInput<T>(static_cast<T*>(input.data), static_cast<size_t>(input.count));
      options.setOutput<T>(reinterpret_cast<T*>(gathered.data()), static_cast<size_t>(input.count) * g.size);
    });
    options.setTag(tag);
    options.setTimeout(g.timeout);
    gloo::allgather(options);
    for (size_t r = 0; r < outputs.size(); ++r) std::memcpy(outputs[r].data, gathered.data() + r * bytes, bytes);
  });
}

std::shared_ptr<Work> reduceScatter(ElementType type, Span output, const std::vector<Span>& inputs, ReduceOp op) {
  // An all-reduce of the inputs laid end to end, of which this rank keeps its own block.
  return collective([=](Group& g, uint32_t tag) {
    if (output.count == 0) return;
    const size_t bytes = static_cast<size_t>(output.count) * elementSize(type);
    std::vector<char> joined(bytes * inputs.size());
    for (size_t r = 0; r < inputs.size(); ++r) std::memcpy(joined.data() + r * bytes, inputs[r].data, bytes);
    withType(type, [&](auto tagType) {
      using T = decltype(tagType);
      allReduceRaw(g, tag, reinterpret_cast<T*>(joined.data()), output.count * static_cast<int64_t>(inputs.size()), op);
    });
    std::memcpy(output.data, joined.data() + static_cast<size_t>(g.rank) * bytes, bytes);
  });
}

std::shared_ptr<Work> barrier() {
  return collective([](Group& g, uint32_t tag) {
    gloo::BarrierOptions options(g.context);
    options.setTag(tag);
    options.setTimeout(g.timeout);
    gloo::barrier(options);
  });
}

std::shared_ptr<Work> send(ElementType type, Span data, int peer) { return pointToPoint(true, type, data, peer); }
std::shared_ptr<Work> recv(ElementType type, Span data, int peer) { return pointToPoint(false, type, data, peer); }

}  // namespace nodegrad::dist
