#include "common/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

#include "common/error.h"

namespace clickflow {
namespace {

sockaddr_in Address(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const std::string ip = host == "localhost" ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    throw Error("not an IPv4 address: " + host);
  }
  return addr;
}

// A TCP port: only digits, 1..65535 (std::stoi would take "80abc", "-1" and "99999").
bool ParsePort(const std::string& text, int& port) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, port);
  return ec == std::errc() && ptr == end && port >= 1 && port <= 65535;
}

}  // namespace

bool PortIsFree(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = Address(host, port);
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return free;
}

bool PortAccepts(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr = Address(host, port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error("socket() failed");
  sockaddr_in addr = Address("127.0.0.1", 0);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw Error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

HostPort ParseHostPort(const std::string& text) {
  std::string first = text.substr(0, text.find(','));
  auto colon = first.rfind(':');
  if (colon == std::string::npos || colon == 0) throw Error("expected host:port, got '" + text + "'");
  HostPort hp;
  hp.host = first.substr(0, colon);
  if (!ParsePort(first.substr(colon + 1), hp.port)) throw Error("expected host:port, got '" + text + "'");
  return hp;
}

int UrlPort(const std::string& url) {
  auto scheme_end = url.find("://");
  std::string rest = scheme_end == std::string::npos ? url : url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  // No port, or only the colons inside an IPv6 literal ("http://[::1]/").
  if (colon == std::string::npos || (rest[0] == '[' && colon < rest.find(']'))) {
    return url.rfind("https", 0) == 0 ? 443 : 80;
  }
  int port = 0;
  if (!ParsePort(rest.substr(colon + 1), port)) throw Error("expected a port 1-65535 in URL '" + url + "'");
  return port;
}

std::string UrlHost(const std::string& url) {
  auto scheme_end = url.find("://");
  std::string rest = scheme_end == std::string::npos ? url : url.substr(scheme_end + 3);
  if (!rest.empty() && rest[0] == '[') return rest.substr(1, rest.find(']') - 1);
  return rest.substr(0, rest.find_first_of(":/"));
}

std::string LocalUrl(const std::string& host, int port) {
  const bool wildcard = host == "0.0.0.0" || host == "::" || host.empty();
  const std::string reach = wildcard ? "127.0.0.1" : host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "http://" + reach + ":" + std::to_string(port);
}

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace clickflow
