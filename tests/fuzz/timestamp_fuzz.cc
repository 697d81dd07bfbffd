// libFuzzer target: ParseTimestamp on event_timestamp text; an accepted timestamp must be in
// range and survive FormatTimestamp -> ParseTimestamp unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ingest/timestamp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clickflow;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto ts = ParseTimestamp(text);
  if (!ts) return 0;
  if (ts->micros > 999999) {
    std::fprintf(stderr, "micros out of range: %u\n", ts->micros);
    std::abort();
  }
  const std::string formatted = FormatTimestamp(*ts);
  const auto again = ParseTimestamp(formatted);
  if (!again || again->seconds != ts->seconds || again->micros != ts->micros) {
    std::fprintf(stderr, "round trip failed: '%s' -> '%s'\n", std::string(text).c_str(), formatted.c_str());
    std::abort();
  }
  return 0;
}
