#pragma once
// A minimal HTTP endpoint for Prometheus: GET /metrics answers with the text the callback
// returns; anything else gets 404. One background thread, one request at a time: scrapes are
// rare and tiny, so a library would add more than it saves.
#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace clickflow {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  // Binds host:port now (throws Error when busy) and serves until destroyed.
  MetricsServer(const std::string& host, int port, Render render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  void Serve();
  int listen_fd_ = -1;
  Render render_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace clickflow
