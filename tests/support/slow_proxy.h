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

  // Client to server. Watches the first request on the connection for the INSERT to hold.
  void Upstream(int client, int server) {
    std::string head;  // the request until its headers end, while still deciding
    bool deciding = true;
    size_t forward_before_hold = 0;  // bytes still to pass before the tail is held
    bool holding = false;
    std::string tail;
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(client, buf, sizeof(buf), 0)) > 0) {
      std::string_view chunk(buf, static_cast<size_t>(n));
      if (deciding) {
        head.append(chunk);
        const size_t end = head.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        deciding = false;
        const size_t length = ContentLength(head.substr(0, end));
        const bool target = head.find(table_) < end && head.find("INSERT") < end && length >= kMinBody;
        if (target && held_.fetch_add(1) == 0) {
          holding = true;
          forward_before_hold = end + 4 + length - kTail;
        }
        chunk = head;
      }
      if (holding) {
        const size_t pass = std::min(chunk.size(), forward_before_hold);
        if (!SendAll(server, chunk.data(), pass)) break;
        forward_before_hold -= pass;
        tail.append(chunk.substr(pass));
        if (tail.size() < kTail) continue;
        std::this_thread::sleep_for(hold_);
        SendAll(server, tail.data(), tail.size());
        delivered_ = true;
        holding = false;
        continue;
      }
      if (!SendAll(server, chunk.data(), chunk.size())) break;
    }
    // The client left: a held tail is still delivered (the server got the request after all).
    if (holding && !tail.empty()) {
      std::this_thread::sleep_for(hold_);
      SendAll(server, tail.data(), tail.size());
      delivered_ = true;
      char drain[4096];
      while (::recv(server, drain, sizeof(drain), 0) > 0) {
      }
    }
    ::shutdown(server, SHUT_WR);
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
