#pragma once
// A minimal HTTP endpoint for Prometheus and status pages: GET <path> answers with the text its
// route's callback returns; anything else gets 404. One background thread, one request at a
// time: scrapes are rare and tiny, so a library would add more than it saves.
#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>

namespace clickflow {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  struct Route {
    std::string content_type;
    Render render;
  };
  // Binds host:port now (throws Error when busy) and serves until destroyed.
  MetricsServer(const std::string& host, int port, std::map<std::string, Route> routes);
  // Prometheus text on /metrics only.
  MetricsServer(const std::string& host, int port, Render render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  void Serve();
  int listen_fd_ = -1;
  std::map<std::string, Route> routes_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace clickflow
