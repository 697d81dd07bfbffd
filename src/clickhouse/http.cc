#include "clickhouse/http.h"

#include <fmt/format.h>

#include <charconv>

#include "common/text.h"

namespace clickflow {

HttpClientOptions ClickHouseHttpOptions(const ClickHouseConfig& config) {
  HttpClientOptions options;
  options.headers = {"X-ClickHouse-User: " + config.user, "X-ClickHouse-Key: " + config.password, "Expect:"};
  return options;
}

std::string ClickHouseUrl(HttpClient& http, const std::string& base_url, const ClickHouseSettings& params) {
  std::string url = base_url + "/";
  char separator = '?';
  for (const auto& [key, value] : params) {
    url += separator;
    url += key;
    url += '=';
    http.AppendEscaped(url, value);
    separator = '&';
  }
  return url;
}

void ThrowTransportError(const HttpTransportError& e, const std::string& base_url) {
  if (e.unusable_url()) throw Error(fmt::format("clickhouse.url '{}' is not usable: {}", base_url, e.what()));
  throw ClickHouseUnavailable(fmt::format("ClickHouse at {} is unavailable: {}", base_url, e.what()));
}

void ThrowAnswerError(const std::string& base_url, long status, std::string_view server_text,
                      std::string_view exception_code, std::string_view sql_for_errors) {
  ParsedServerError parsed = ParseServerError(server_text);
  if (!exception_code.empty()) {
    int header_code = 0;
    if (std::from_chars(exception_code.data(), exception_code.data() + exception_code.size(), header_code).ec ==
        std::errc()) {
      parsed.code = header_code;
    }
  }
  if (parsed.code == 0 && (status == 502 || status == 503 || status == 504)) {
    // A proxy or load balancer in front of a server that is down or restarting.
    throw ClickHouseUnavailable(
        fmt::format("ClickHouse at {} is unavailable: HTTP {}: {}", base_url, status, parsed.message));
  }
  throw ClickHouseError(parsed.code, parsed.message,
                        fmt::format("ClickHouse error {} (HTTP {}): {} [{}]", parsed.code, status, parsed.message,
                                    Abbreviate(sql_for_errors)));
}

std::string Abbreviate(std::string_view sql) {
  std::string one_line;
  for (char c : sql) one_line += (c == '\n' || c == '\t') ? ' ' : c;
  one_line = Trim(one_line);
  constexpr size_t kMax = 200;
  if (one_line.size() > kMax) one_line = one_line.substr(0, kMax) + "...";
  return one_line;
}

}  // namespace clickflow
