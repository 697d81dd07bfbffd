#include "common/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "common/prometheus.h"

namespace clickflow {

MetricsServer::MetricsServer(const std::string& host, int port, Render render)
    : MetricsServer(host, port, {{"/metrics", Route{std::string(prometheus::kContentType), std::move(render)}}}) {}

MetricsServer::MetricsServer(const std::string& host, int port, std::map<std::string, Route> routes)
    : routes_(std::move(routes)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) != 1 ||
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0) {
    ::close(listen_fd_);
    throw Error("cannot serve metrics on " + host + ":" + std::to_string(port) + " (port in use?)");
  }
  thread_ = std::thread([this] { Serve(); });
}

MetricsServer::~MetricsServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

void MetricsServer::Serve() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char buf[2048];
    ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
    std::string request(buf, n > 0 ? static_cast<size_t>(n) : 0);
    std::string status = "404 Not Found", body = "not found\n", content_type = "text/plain";
    // "GET /path?query HTTP/1.1": the path is what routes.
    if (request.rfind("GET ", 0) == 0) {
      const size_t end = request.find_first_of(" ?", 4);
      auto route = routes_.find(request.substr(4, end == std::string::npos ? std::string::npos : end - 4));
      if (route != routes_.end()) {
        status = "200 OK";
        content_type = route->second.content_type;
        try {
          body = route->second.render();
        } catch (const std::exception& e) {
          status = "500 Internal Server Error";
          content_type = "text/plain";
          body = std::string(e.what()) + "\n";
        }
      }
    }
    const std::string response = "HTTP/1.1 " + status + "\r\nContent-Type: " + content_type +
                                 "\r\nContent-Length: " + std::to_string(body.size()) +
                                 "\r\nConnection: close\r\n\r\n" + body;
    (void)!::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
}

}  // namespace clickflow
