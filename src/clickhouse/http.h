#pragma once
// What every HTTP request to ClickHouse shares, for ClickHouseClient and the streams
// (clickhouse/stream.h): the login headers, the URL that carries the settings, and the
// exception an answer without rows becomes.
#include <string>
#include <string_view>

#include "clickhouse/client.h"
#include "common/http_client.h"

namespace clickflow {

// Credentials go in X-ClickHouse-User / X-ClickHouse-Key headers: 18.16 accepts them (a wrong
// key answers Code 193), they keep the password out of URLs that servers and proxies log, and
// unlike basic auth they need no base64 round trip through curl's auth logic. "Expect:" drops
// the 100-continue round trip before large insert bodies.
HttpClientOptions ClickHouseHttpOptions(const ClickHouseConfig& config);

// `base_url`/ with `params` as percent-encoded URL parameters.
std::string ClickHouseUrl(HttpClient& http, const std::string& base_url, const ClickHouseSettings& params);

// A transport failure as clickflow reports it: Error for an unusable clickhouse.url,
// ClickHouseUnavailable for anything else.
[[noreturn]] void ThrowTransportError(const HttpTransportError& e, const std::string& base_url);

// An answer other than 200: ClickHouseUnavailable when a proxy in front of the server says it
// is down, ClickHouseError with the server's code and message otherwise. `exception_code` is
// the X-ClickHouse-Exception-Code header (empty when the server sent none); `server_text` is
// the error body as text.
[[noreturn]] void ThrowAnswerError(const std::string& base_url, long status, std::string_view server_text,
                                   std::string_view exception_code, std::string_view sql_for_errors);

// The statement on one line, cut at 200 characters: error messages quote it, not a whole
// multi-kilobyte one.
std::string Abbreviate(std::string_view sql);

}  // namespace clickflow
