// libFuzzer target: the host/port/URL helpers applied to config values
// (kafka.bootstrap_servers, clickhouse.url). ParseHostPort and UrlPort may throw
// clickflow::Error on a malformed value; any other exception escaping is a finding, and so is a
// port they return outside 1..65535.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "common/net.h"

namespace {

void CheckPort(const char* what, const std::string& text, int port) {
  if (port < 1 || port > 65535) {
    std::fprintf(stderr, "%s('%s') returned port %d\n", what, text.c_str(), port);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clickflow;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const HostPort hp = ParseHostPort(text);
    CheckPort("ParseHostPort", text, hp.port);
    (void)LocalUrl(hp.host, hp.port);
  } catch (const Error&) {
  }
  try {
    CheckPort("UrlPort", text, UrlPort(text));
  } catch (const Error&) {
  }
  (void)UrlHost(text);
  (void)ShellQuote(text);
  return 0;
}
