// The rendezvous stores of ng.distributed: where ranks publish their Gloo addresses before they
// connect. tcp:// and env:// use a small key-value server that rank 0 runs on a native thread (like
// PyTorch's TCPStore), so serving never needs rank 0's JS thread; file:// uses Gloo's FileStore.
// Compiled only with Gloo (NODEGRAD_HAVE_GLOO).
#pragma once
#include <gloo/rendezvous/store.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nodegrad::dist {

// The few operations the rendezvous needs; get() is only called for keys has() reported.
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  virtual void set(const std::string& key, const std::vector<char>& value) = 0;
  virtual std::vector<char> get(const std::string& key) = 0;
  virtual bool has(const std::string& key) = 0;
  // Adds `delta` to the integer stored at `key` (0 when absent) and returns the sum.
  virtual int64_t add(const std::string& key, int64_t delta) = 0;
};

// The key-value server rank 0 runs: one accept thread and one thread per connected rank.
class StoreServer {
 public:
  // Listens on every interface at `port`; throws std::runtime_error when the port is taken.
  explicit StoreServer(int port);
  ~StoreServer();
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

 private:
  void acceptLoop();
  void serve(int fd);

  int listenFd_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;  // guards data_, clients_ and clientThreads_
  std::map<std::string, std::vector<char>> data_;
  std::vector<int> clients_;
  std::vector<std::thread> clientThreads_;
  std::thread acceptThread_;
};

// A client of StoreServer at host:port; retries the connection until `timeout` passes.
std::unique_ptr<KeyValueStore> connectTcpStore(const std::string& host, int port, std::chrono::milliseconds timeout);

// Gloo's FileStore over the folder `path` (created if missing).
std::unique_ptr<KeyValueStore> openFileStore(const std::string& path);

// The Store Gloo's connectFullMesh reads: every key under `prefix` (one per process group, so that a
// group made after destroyProcessGroup never reads the addresses of the one before), every wait bounded
// by `timeout`. A wait that times out names the ranks that never published their address.
class RendezvousStore : public gloo::rendezvous::Store {
 public:
  RendezvousStore(KeyValueStore& store, std::string prefix, int worldSize, std::chrono::milliseconds timeout,
                  std::string where);
  // The ranks whose address key is not in the store yet.
  std::vector<int> missingRanks();
  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

 private:
  KeyValueStore& store_;
  const std::string prefix_;
  const int worldSize_;
  const std::chrono::milliseconds timeout_;
  const std::string where_;
  std::string rankKeyStem_;  // the key a rank publishes, less its number (learned from this rank's set)
};

}  // namespace nodegrad::dist
