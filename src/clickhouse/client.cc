#include "clickhouse/client.h"

#include <charconv>

#include <fmt/format.h>

#include "clickhouse/http.h"
#include "common/log.h"
#include "common/text.h"

namespace clickflow {
ParsedServerError ParseServerError(std::string_view body) {
  ParsedServerError result;
  std::string text = Trim(body);
  // The exception can also close a body that had already started streaming rows, so look for
  // the marker anywhere, not only at the start.
  size_t at = text.find("Code: ");
  if (at != std::string::npos) {
    const char* begin = text.data() + at + 6;
    const char* end = text.data() + text.size();
    int code = 0;
    auto [ptr, ec] = std::from_chars(begin, end, code);
    if (ec == std::errc() && ptr != begin) {
      result.code = code;
      std::string_view rest(ptr, static_cast<size_t>(end - ptr));
      // 18.16-21.x: "Code: 60, e.displayText() = DB::Exception: msg, e.what() = DB::Exception"
      constexpr std::string_view kOld = ", e.displayText() = ";
      constexpr std::string_view kWhat = ", e.what() = ";
      if (rest.starts_with(kOld)) {
        rest.remove_prefix(kOld.size());
        if (size_t what = rest.rfind(kWhat); what != std::string_view::npos) rest = rest.substr(0, what);
      } else if (rest.starts_with(".") || rest.starts_with(",")) {
        rest.remove_prefix(1);  // 21.x on: "Code: 60. DB::Exception: msg (UNKNOWN_TABLE) ..."
      }
      result.message = Trim(rest);
      return result;
    }
  }
  result.message = text;
  return result;
}

std::string Quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  for (char c : text) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '\\' || c == '`') out += '\\';
    out += c;
  }
  out += '`';
  return out;
}

ClickHouseClient::ClickHouseClient(const ClickHouseConfig& config, ClickHouseTimeouts timeouts)
    : url_(config.url), timeouts_(timeouts), http_([&] {
        HttpClientOptions options = ClickHouseHttpOptions(config);
        options.tcp_keepalive = true;
        options.connect_timeout = timeouts.connect;
        options.timeout = timeouts.request;
        return options;
      }()) {
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
}

ClickHouseClient::~ClickHouseClient() = default;

std::string ClickHouseClient::BuildUrl(const ClickHouseSettings& params) { return ClickHouseUrl(http_, url_, params); }

ClickHouseClient::Response ClickHouseClient::Perform(const std::string& url, std::string_view body, bool post) {
  Response response;
  HttpRequest request;
  request.method = post ? HttpMethod::kPost : HttpMethod::kGet;
  request.body = body;
  // Servers since about 19.x name the error code in a header; it beats parsing the body.
  request.on_header = [&response](std::string_view name, std::string_view value) {
    if (HeaderNameIs(name, "X-ClickHouse-Exception-Code")) response.exception_code = value;
  };
  try {
    HttpResponse answer = http_.Perform(url, request);
    response.status = answer.status;
    response.body = std::move(answer.body);
  } catch (const HttpTransportError& e) {
    ThrowTransportError(e, url_);
  }
  return response;
}

std::string ClickHouseClient::Send(const std::string& sql_for_errors, ClickHouseSettings params,
                                   std::string_view body) {
  if (!database_.empty() && !params.contains("database")) params["database"] = database_;
  Response response = Perform(BuildUrl(params), body, /*post=*/true);
  if (response.status == 200) return std::move(response.body);
  ThrowAnswerError(url_, response.status, response.body, response.exception_code, sql_for_errors);
}

std::string ClickHouseClient::Query(const std::string& sql, const std::string& format,
                                    const ClickHouseSettings& settings) {
  ClickHouseSettings params = settings;
  if (!format.empty()) params["default_format"] = format;
  // The server buffers the result and only then sends the status line, so an error half way
  // through a result is an HTTP error, not a 200 with an exception glued to the rows.
  params.try_emplace("wait_end_of_query", "1");
  spdlog::debug("clickhouse query: {}", Abbreviate(sql));
  // The statement travels as the POST body: no URL length limit for long DDL or IN lists.
  return Send(sql, std::move(params), sql);
}

void ClickHouseClient::Execute(const std::string& sql, const ClickHouseSettings& settings) {
  ClickHouseSettings params = settings;
  params.try_emplace("wait_end_of_query", "1");
  spdlog::debug("clickhouse execute: {}", Abbreviate(sql));
  Send(sql, std::move(params), sql);
}

void ClickHouseClient::Insert(const std::string& table_and_columns, const std::string& format, std::string_view data,
                              const ClickHouseSettings& settings) {
  ClickHouseSettings params = settings;
  std::string query = fmt::format("INSERT INTO {} FORMAT {}", table_and_columns, format);
  params["query"] = query;
  spdlog::debug("clickhouse insert: {} ({} bytes)", query, data.size());
  Send(query, std::move(params), data);
}

int64_t ClickHouseClient::QueryInt(const std::string& sql, const ClickHouseSettings& settings) {
  std::string body = Query(sql, "TabSeparated", settings);
  std::string text = Trim(body);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    throw Error(fmt::format("expected one integer from ClickHouse, got '{}' [{}]", Abbreviate(text), Abbreviate(sql)));
  }
  return value;
}

bool ClickHouseClient::Ping() {
  try {
    Response response = Perform(url_ + "/ping", {}, /*post=*/false);
    return response.status == 200 && Trim(response.body) == "Ok.";
  } catch (const Error&) {
    return false;
  }
}

}  // namespace clickflow
