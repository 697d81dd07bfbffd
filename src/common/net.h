#pragma once
// Loopback port helpers for the stack manager and the test fixture.
#include <chrono>
#include <string>

namespace clickflow {

// True when nothing listens on host:port and we could bind it.
bool PortIsFree(const std::string& host, int port);

// True when a TCP connection to host:port succeeds.
bool PortAccepts(const std::string& host, int port);

// A port the kernel reports free right now (bind to 0, read back, close).
int PickFreePort();

// Splits "host:port" (the first entry of a comma-separated list); throws on a malformed value.
struct HostPort {
  std::string host;
  int port = 0;
};
HostPort ParseHostPort(const std::string& text);

// Port of an http(s):// URL (80/443 when absent); throws Error when it is not 1..65535.
int UrlPort(const std::string& url);

// Host of an http(s):// URL ("::1" for "http://[::1]:8123/").
std::string UrlHost(const std::string& url);

// "http://host:port" for reaching a local listener bound to `host`: loopback when it listens
// on every address, brackets around IPv6.
std::string LocalUrl(const std::string& host, int port);

// Quotes `text` for a POSIX shell (generated env.sh files).
std::string ShellQuote(const std::string& text);

}  // namespace clickflow
