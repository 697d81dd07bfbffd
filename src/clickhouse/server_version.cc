#include "clickhouse/server_version.h"

#include <charconv>

#include <fmt/format.h>

#include "clickhouse/client.h"
#include "clickhouse/rows.h"
#include "common/error.h"

namespace clickflow {

std::string ServerVersion::ToString() const { return fmt::format("{}.{}.{}", major, minor, patch); }

ServerVersion ParseServerVersion(std::string_view text) {
  std::string_view rest = text;
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  int parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    const char* begin = rest.data();
    const char* end = rest.data() + rest.size();
    auto [ptr, ec] = std::from_chars(begin, end, parts[i]);
    if (ec != std::errc() || parts[i] < 0) {
      throw Error(fmt::format("cannot parse ClickHouse version '{}'", text));
    }
    rest.remove_prefix(static_cast<size_t>(ptr - begin));
    if (i < 2) {
      if (rest.empty() || rest.front() != '.') {
        throw Error(fmt::format("cannot parse ClickHouse version '{}'", text));
      }
      rest.remove_prefix(1);
    }
  }
  // Whatever follows the patch (".13", " (official build)", a newline) is not ours to judge.
  return ServerVersion{parts[0], parts[1], parts[2]};
}

ServerVersion QueryServerVersion(ClickHouseClient& client) {
  return ParseServerVersion(QueryFirstRow(client, "SELECT version()").Str(0));
}

}  // namespace clickflow
