// common/http_client.h against a small HTTP/1.1 server on loopback (a thread of this test that
// answers each request with what it received): methods, bodies both ways, headers, streaming,
// keep-alive and the errors when there is no answer.
#include "common/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

namespace clickflow {
namespace {

// Answers every request with 200 and the body "<METHOD> <target>\n<headers>\n<body>", or with
// 500 and "failed" when the target starts with /fail. Counts connections, so a test can see
// keep-alive at work.
class EchoServer {
 public:
  EchoServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t size = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    ::listen(listener_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~EchoServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int connections() const { return connections_; }

 private:
  void Serve() {
    for (;;) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      ++connections_;
      std::string pending;
      while (Answer(fd, pending)) {
      }
      ::close(fd);
    }
  }

  // Reads one request from `fd` and answers it; false when the client closed the connection.
  static bool Answer(int fd, std::string& pending) {
    size_t end;
    while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
      if (!Read(fd, pending)) return false;
    }
    const std::string head = pending.substr(0, end);
    size_t length = 0;
    if (const size_t at = Lower(head).find("content-length:"); at != std::string::npos) {
      length = std::stoul(head.substr(at + 15));
    }
    while (pending.size() < end + 4 + length) {
      if (!Read(fd, pending)) return false;
    }
    const std::string body = pending.substr(end + 4, length);
    pending.erase(0, end + 4 + length);
    const std::string request_line = head.substr(0, head.find("\r\n"));
    const bool fail = request_line.find(" /fail") != std::string::npos;
    const std::string content = fail ? "failed" : request_line + "\n" + head + "\n" + body;
    const std::string answer = std::string(fail ? "HTTP/1.1 500 Internal Server Error" : "HTTP/1.1 200 OK") +
                               "\r\nX-Echo-Length: " + std::to_string(body.size()) +
                               "\r\nContent-Length: " + std::to_string(content.size()) + "\r\n\r\n" + content;
    return ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(answer.size());
  }

  static bool Read(int fd, std::string& into) {
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    into.append(buffer, static_cast<size_t>(n));
    return true;
  }

  static std::string Lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::thread thread_;
};

TEST(HttpClientTest, GetAndPostWithHeadersOverOneConnection) {
  EchoServer server;
  HttpClientOptions options;
  options.headers = {"X-Always: yes"};
  HttpClient client(options);

  HttpResponse get = client.Perform(server.Url("/a?x=1"), HttpRequest{});
  EXPECT_EQ(get.status, 200);
  EXPECT_TRUE(get.body.starts_with("GET /a?x=1 HTTP/1.1\n")) << get.body;
  EXPECT_NE(get.body.find("X-Always: yes"), std::string::npos) << get.body;

  HttpRequest post;
  post.method = HttpMethod::kPost;
  post.body = "payload";
  post.headers = {"X-Once: 1"};
  std::string echo_length;
  post.on_header = [&](std::string_view name, std::string_view value) {
    if (HeaderNameIs(name, "x-echo-length")) echo_length = value;
  };
  HttpResponse posted = client.Perform(server.Url("/b"), post);
  EXPECT_EQ(posted.status, 200);
  EXPECT_TRUE(posted.body.starts_with("POST /b HTTP/1.1\n")) << posted.body;
  EXPECT_TRUE(posted.body.ends_with("\npayload")) << posted.body;
  EXPECT_NE(posted.body.find("X-Always: yes"), std::string::npos) << posted.body;
  EXPECT_NE(posted.body.find("X-Once: 1"), std::string::npos) << posted.body;
  EXPECT_EQ(echo_length, "7");

  // The request's own headers were for that request only.
  HttpResponse again = client.Perform(server.Url("/c"), HttpRequest{});
  EXPECT_EQ(again.body.find("X-Once"), std::string::npos) << again.body;
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, StreamsBodiesThroughCallbacks) {
  EchoServer server;
  HttpClientOptions options;
  options.headers = {"Expect:"};  // this server sends no 100 Continue
  HttpClient client(options);
  const std::string big(300000, 'z');
  size_t offset = 0;
  HttpRequest request;
  request.method = HttpMethod::kPost;
  request.body_size = big.size();
  request.read_body = [&](char* buffer, size_t capacity) {
    const size_t n = std::min(capacity, big.size() - offset);
    std::memcpy(buffer, big.data() + offset, n);
    offset += n;
    return n;
  };
  std::string streamed;
  int chunks = 0;
  request.on_body = [&](std::string_view chunk) {
    streamed.append(chunk);
    ++chunks;
    return true;
  };
  HttpResponse response = client.Perform(server.Url("/stream"), request);
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.empty());
  EXPECT_TRUE(streamed.ends_with("\n" + big));
  EXPECT_GT(chunks, 1);

  // An error answer is not streamed: its text lands in the body.
  streamed.clear();
  offset = 0;
  response = client.Perform(server.Url("/fail"), request);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body, "failed");
  EXPECT_TRUE(streamed.empty());

  // A sink that gives up aborts the transfer.
  offset = 0;
  request.on_body = [](std::string_view) { return false; };
  EXPECT_THROW(client.Perform(server.Url("/stream"), request), HttpTransportError);
}

TEST(HttpClientTest, NoAnswerIsATransportError) {
  int port = 0;
  {
    EchoServer server;  // a port that was just free and is closed again
    port = std::stoi(server.Url("").substr(std::strlen("http://127.0.0.1:")));
  }
  HttpClient client;
  try {
    client.Perform("http://127.0.0.1:" + std::to_string(port) + "/", HttpRequest{});
    FAIL() << "a closed port answered";
  } catch (const HttpTransportError& e) {
    EXPECT_FALSE(e.unusable_url());
  }
  try {
    client.Perform("nosuch://x/", HttpRequest{});
    FAIL() << "an unknown scheme answered";
  } catch (const HttpTransportError& e) {
    EXPECT_TRUE(e.unusable_url());
  }
  EXPECT_FALSE(HttpGet("http://127.0.0.1:" + std::to_string(port) + "/", std::chrono::milliseconds(2000)));
}

TEST(HttpClientTest, HttpGetGivesTheBodyOfA200Only) {
  EchoServer server;
  const auto ok = HttpGet(server.Url("/health"), std::chrono::milliseconds(5000));
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->starts_with("GET /health HTTP/1.1\n"));
  EXPECT_FALSE(HttpGet(server.Url("/fail"), std::chrono::milliseconds(5000)));
}

TEST(HttpClientTest, EscapesQueryParameters) {
  HttpClient client;
  std::string url = "http://h/?q=";
  client.AppendEscaped(url, "SELECT 1 & 'a'");
  EXPECT_EQ(url, "http://h/?q=SELECT%201%20%26%20%27a%27");
}

}  // namespace
}  // namespace clickflow
