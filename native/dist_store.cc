// Rendezvous stores (dist_store.h). The TCP protocol is one request, one reply, over a blocking socket:
//   request: u8 command, u32 key length, key, u32 value length, value
//   reply:   set -> u8 1;  get -> u8 found, u32 length, value;  has -> u8 found;  add -> i64 sum
#include "dist_store.h"

#include <gloo/rendezvous/file_store.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace nodegrad::dist {
namespace {

enum Command : uint8_t { kSet = 1, kGet = 2, kHas = 3, kAdd = 4 };
constexpr uint32_t kMaxLength = 64u << 20;  // no rendezvous value comes near it; guards a corrupt stream

using Clock = std::chrono::steady_clock;

std::string systemError(const std::string& what) { return what + ": " + std::strerror(errno); }

// Reads or writes exactly n bytes; false when the peer closed the socket or the socket timed out.
bool readAll(int fd, void* data, size_t n) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t got = ::recv(fd, p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool writeAll(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t sent = ::send(fd, p, n, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    p += sent;
    n -= static_cast<size_t>(sent);
  }
  return true;
}

bool readBytes(int fd, std::vector<char>& out) {
  uint32_t length = 0;
  if (!readAll(fd, &length, sizeof length) || length > kMaxLength) return false;
  out.resize(length);
  return readAll(fd, out.data(), length);
}

bool writeBytes(int fd, const void* data, size_t n) {
  const auto length = static_cast<uint32_t>(n);
  return writeAll(fd, &length, sizeof length) && writeAll(fd, data, n);
}

class TcpStoreClient : public KeyValueStore {
 public:
  TcpStoreClient(int fd, std::string where) : fd_(fd), where_(std::move(where)) {}
  ~TcpStoreClient() override { ::close(fd_); }
  TcpStoreClient(const TcpStoreClient&) = delete;
  TcpStoreClient& operator=(const TcpStoreClient&) = delete;

  void set(const std::string& key, const std::vector<char>& value) override {
    request(kSet, key, value.data(), value.size());
    uint8_t ok = 0;
    if (!readAll(fd_, &ok, 1)) lost();
  }
  std::vector<char> get(const std::string& key) override {
    request(kGet, key, nullptr, 0);
    uint8_t found = 0;
    std::vector<char> value;
    if (!readAll(fd_, &found, 1) || !readBytes(fd_, value)) lost();
    if (found == 0) throw std::runtime_error("store key '" + key + "' is missing at " + where_);
    return value;
  }
  bool has(const std::string& key) override {
    request(kHas, key, nullptr, 0);
    uint8_t found = 0;
    if (!readAll(fd_, &found, 1)) lost();
    return found != 0;
  }
  int64_t add(const std::string& key, int64_t delta) override {
    request(kAdd, key, &delta, sizeof delta);
    int64_t sum = 0;
    if (!readAll(fd_, &sum, sizeof sum)) lost();
    return sum;
  }

 private:
  void request(Command command, const std::string& key, const void* value, size_t n) {
    const auto c = static_cast<uint8_t>(command);
    if (!writeAll(fd_, &c, 1) || !writeBytes(fd_, key.data(), key.size()) || !writeBytes(fd_, value, n)) lost();
  }
  [[noreturn]] void lost() const {
    throw std::runtime_error("lost the connection to the rendezvous store at " + where_ +
                             " (rank 0 exited or the store timed out)");
  }

  const int fd_;
  const std::string where_;
};

// Gloo's FileStore, with its protected key check made public.
class FileStore : public KeyValueStore {
 public:
  explicit FileStore(const std::string& path) : store_(path) {}
  void set(const std::string& key, const std::vector<char>& value) override { store_.set(key, value); }
  std::vector<char> get(const std::string& key) override { return store_.get(key); }
  bool has(const std::string& key) override { return store_.has(key); }
  int64_t add(const std::string& /*key*/, int64_t /*delta*/) override {
    throw std::runtime_error("the file store has no atomic add");
  }

 private:
  struct Exposed : gloo::rendezvous::FileStore {
    using gloo::rendezvous::FileStore::FileStore;
    bool has(const std::string& key) { return check({key}); }
  };
  Exposed store_;
};

void setTimeouts(int fd, std::chrono::milliseconds timeout) {
  const auto ms = std::max<int64_t>(1, timeout.count());
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// One connection attempt to host:port; -1 when nobody listens there yet.
int tryConnect(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (status != 0) throw std::runtime_error("cannot resolve '" + host + "': " + ::gai_strerror(status));
  int fd = -1;
  for (const addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

}  // namespace

StoreServer::StoreServer(int port) {
  listenFd_ = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool ipv6 = listenFd_ >= 0;
  if (!ipv6) listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0) throw std::runtime_error(systemError("cannot create the store's socket"));
  const int one = 1, zero = 0;
  ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int bound = -1;
  if (ipv6) {
    // Dual stack: IPv4 ranks reach it as ::ffff:a.b.c.d.
    ::setsockopt(listenFd_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_any;
    address.sin6_port = htons(static_cast<uint16_t>(port));
    bound = ::bind(listenFd_, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = htons(static_cast<uint16_t>(port));
    bound = ::bind(listenFd_, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  }
  if (bound != 0 || ::listen(listenFd_, 128) != 0) {
    const std::string why = systemError("cannot listen on port " + std::to_string(port));
    ::close(listenFd_);
    throw std::runtime_error(why + " (is another job using MASTER_PORT?)");
  }
  acceptThread_ = std::thread([this] { acceptLoop(); });
}

StoreServer::~StoreServer() {
  stopping_ = true;
  // shutdown() wakes the accept() and recv() calls blocked on these sockets.
  ::shutdown(listenFd_, SHUT_RDWR);
  acceptThread_.join();
  std::vector<std::thread> threads;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const int fd : clients_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(clientThreads_);
  }
  for (std::thread& t : threads) t.join();
  for (const int fd : clients_) ::close(fd);
  ::close(listenFd_);
}

void StoreServer::acceptLoop() {
  while (!stopping_) {
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    clients_.push_back(fd);
    clientThreads_.emplace_back([this, fd] { serve(fd); });
  }
}

void StoreServer::serve(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<char> key, value;
  for (;;) {
    uint8_t command = 0;
    if (!readAll(fd, &command, 1) || !readBytes(fd, key) || !readBytes(fd, value)) return;
    const std::string name(key.begin(), key.end());
    bool ok = true;
    if (command == kSet) {
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        data_[name] = value;
      }
      const uint8_t done = 1;
      ok = writeAll(fd, &done, 1);
    } else if (command == kGet || command == kHas) {
      std::vector<char> stored;
      uint8_t found = 0;
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        const auto it = data_.find(name);
        if (it != data_.end()) {
          found = 1;
          if (command == kGet) stored = it->second;
        }
      }
      ok = writeAll(fd, &found, 1) && (command == kHas || writeBytes(fd, stored.data(), stored.size()));
    } else if (command == kAdd && value.size() == sizeof(int64_t)) {
      int64_t delta = 0, sum = 0;
      std::memcpy(&delta, value.data(), sizeof delta);
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        std::vector<char>& stored = data_[name];
        if (stored.size() == sizeof sum) std::memcpy(&sum, stored.data(), sizeof sum);
        sum += delta;
        stored.resize(sizeof sum);
        std::memcpy(stored.data(), &sum, sizeof sum);
      }
      ok = writeAll(fd, &sum, sizeof sum);
    } else {
      return;  // an unknown command: not one of our clients
    }
    if (!ok) return;
  }
}

std::unique_ptr<KeyValueStore> connectTcpStore(const std::string& host, int port, std::chrono::milliseconds timeout) {
  const std::string where = "tcp://" + host + ":" + std::to_string(port);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const int fd = tryConnect(host, port);
    if (fd >= 0) {
      setTimeouts(fd, timeout);
      return std::make_unique<TcpStoreClient>(fd, where);
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error("rendezvous timed out after " + std::to_string(timeout.count()) +
                               " ms: no store answered at " + where + " (rank 0 never started it)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::unique_ptr<KeyValueStore> openFileStore(const std::string& path) {
  if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST)
    throw std::runtime_error(systemError("cannot create the rendezvous folder '" + path + "'"));
  return std::make_unique<FileStore>(path);
}

RendezvousStore::RendezvousStore(KeyValueStore& store, std::string prefix, int worldSize,
                                 std::chrono::milliseconds timeout, std::string where)
    : store_(store), prefix_(std::move(prefix)), worldSize_(worldSize), timeout_(timeout), where_(std::move(where)) {}

void RendezvousStore::set(const std::string& key, const std::vector<char>& data) {
  const size_t digits = key.find_last_not_of("0123456789");
  rankKeyStem_ = key.substr(0, digits == std::string::npos ? 0 : digits + 1);
  store_.set(prefix_ + key, data);
}

std::vector<char> RendezvousStore::get(const std::string& key) {
  wait({key});
  return store_.get(prefix_ + key);
}

void RendezvousStore::wait(const std::vector<std::string>& keys) { wait(keys, timeout_); }

// Gloo passes its own default (30 s) from some call sites: the group's timeout wins.
void RendezvousStore::wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& /*timeout*/) {
  const auto deadline = Clock::now() + timeout_;
  auto pause = std::chrono::milliseconds(2);
  for (;;) {
    const bool all =
        std::all_of(keys.begin(), keys.end(), [&](const std::string& key) { return store_.has(prefix_ + key); });
    if (all) return;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  std::string missing;
  for (const int rank : missingRanks()) missing += (missing.empty() ? "" : ", ") + std::to_string(rank);
  throw std::runtime_error("rendezvous timed out after " + std::to_string(timeout_.count()) + " ms at " + where_ +
                           (missing.empty()
                                ? std::string(": waited for keys that never appeared")
                                : ": rank(s) " + missing + " of " + std::to_string(worldSize_) + " never arrived"));
}

std::vector<int> RendezvousStore::missingRanks() {
  std::vector<int> missing;
  for (int rank = 0; rank < worldSize_; ++rank)
    if (!store_.has(prefix_ + rankKeyStem_ + std::to_string(rank))) missing.push_back(rank);
  return missing;
}

}  // namespace nodegrad::dist
