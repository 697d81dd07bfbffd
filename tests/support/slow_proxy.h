#pragma once
// A TCP proxy in front of ClickHouse's HTTP port that plays a server which accepted a request
// but was slow to apply it: the first INSERT into a chosen table whose body is large enough for
// the server to start running it gets all of its body but the last kTail bytes at once, and the
// tail `hold` later. Everything else is passed through untouched.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace clickflow::testing {

class SlowInsertProxy {
 public:
  static constexpr size_t kTail = 1024;
  // 18.16 parses the first max_query_size (256 KiB) of a request before it lists the query in
  // system.processes: smaller INSERTs are not "accepted" yet when held.
  static constexpr size_t kMinBody = 512 * 1024;

  SlowInsertProxy(int upstream_port, std::string table, std::chrono::seconds hold)
      : upstream_port_(upstream_port), table_(std::move(table)), hold_(hold) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listener_, 64) != 0) {
      throw std::runtime_error("proxy: cannot listen");
    }
    socklen_t len = sizeof(addr);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~SlowInsertProxy() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : pumps_) t.join();
  }

  int port() const { return port_; }
  // How many INSERTs were held (0 or 1), and whether the held tail has been delivered.
  int held() const { return held_; }
  bool delivered() const { return delivered_; }

 private:
  static int Connect(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  static bool SendAll(int fd, const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  void Accept() {
    while (!stopping_) {
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      const int server = Connect(upstream_port_);
      if (server < 0) {
        ::close(client);
        continue;
      }
      std::lock_guard lock(mutex_);
      pumps_.emplace_back([this, client, server] { Upstream(client, server); });
      pumps_.emplace_back([client, server] { Downstream(server, client); });
    }
  }

  static void Downstream(int server, int client) {
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(server, buf, sizeof(buf), 0)) > 0) {
      if (!SendAll(client, buf, static_cast<size_t>(n))) break;
    }
    ::shutdown(client, SHUT_RDWR);
    ::shutdown(server, SHUT_RDWR);
  }

  // Client to server, request by request (Content-Length framing, as libcurl sends them), so
  // the held INSERT may come after other requests on the same keep-alive connection.
  void Upstream(int client, int server) {
    std::string pending;
    bool in_body = false;
    size_t body_left = 0;
    bool hold_this = false;
    auto pump = [&]() -> bool {
      while (!pending.empty()) {
        if (!in_body) {
          const size_t end = pending.find("\r\n\r\n");
          if (end == std::string::npos) return true;
          const std::string headers = pending.substr(0, end + 4);
          body_left = ContentLength(headers);
          hold_this = headers.find(table_) != std::string::npos && headers.find("INSERT") != std::string::npos &&
                      body_left >= kMinBody && TakeTheHold();
          if (!SendAll(server, headers.data(), headers.size())) return false;
          pending.erase(0, headers.size());
          in_body = body_left > 0;
          continue;
        }
        if (hold_this && body_left <= kTail) {
          if (pending.size() < body_left) return true;  // the whole tail first
          std::this_thread::sleep_for(hold_);
          const bool sent = SendAll(server, pending.data(), body_left);
          delivered_ = sent;
          pending.erase(0, body_left);
          body_left = 0;
          hold_this = false;
          in_body = false;
          if (!sent) return false;
          continue;
        }
        const size_t n = std::min(pending.size(), hold_this ? body_left - kTail : body_left);
        if (!SendAll(server, pending.data(), n)) return false;
        pending.erase(0, n);
        body_left -= n;
        in_body = body_left > 0;
      }
      return true;
    };
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(client, buf, sizeof(buf), 0)) > 0) {
      pending.append(buf, static_cast<size_t>(n));
      if (!pump()) break;
    }
    ::shutdown(server, SHUT_WR);
  }

  bool TakeTheHold() {
    int none = 0;
    return held_.compare_exchange_strong(none, 1);
  }

  static size_t ContentLength(const std::string& headers) {
    std::string lower = headers;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t at = lower.find("content-length:");
    return at == std::string::npos ? 0 : std::stoul(lower.substr(at + 15));
  }

  int upstream_port_;
  std::string table_;
  std::chrono::seconds hold_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> held_{0};
  std::atomic<bool> delivered_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> pumps_;
};

}  // namespace clickflow::testing
