#include "clickhouse/client.h"

#include <curl/curl.h>

#include <cctype>
#include <charconv>
#include <mutex>

#include <fmt/format.h>

#include "common/log.h"

namespace clickflow {
namespace {

CURL* Handle(void* p) { return static_cast<CURL*>(p); }

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Servers since about 19.x name the error code in a header; it beats parsing the body.
size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  constexpr std::string_view kName = "x-clickhouse-exception-code:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
      }
      *static_cast<std::string*>(user) = std::string(value);
    }
  }
  return size * count;
}

std::string Trim(std::string_view text) {
  const char* ws = " \t\r\n";
  size_t begin = text.find_first_not_of(ws);
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(ws);
  return std::string(text.substr(begin, end - begin + 1));
}

// Error messages quote the statement, but not a whole multi-kilobyte one.
std::string Abbreviate(std::string_view sql) {
  std::string one_line;
  for (char c : sql) one_line += (c == '\n' || c == '\t') ? ' ' : c;
  one_line = Trim(one_line);
  constexpr size_t kMax = 200;
  if (one_line.size() > kMax) one_line = one_line.substr(0, kMax) + "...";
  return one_line;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

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
    : url_(config.url), timeouts_(timeouts) {
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
  InitCurlOnce();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw Error("cannot initialise libcurl");
  // Credentials go in X-ClickHouse-User / X-ClickHouse-Key headers: 18.16 accepts them (checked:
  // a wrong key answers Code 193), they keep the password out of URLs that servers and proxies
  // log, and unlike basic auth they need no base64 round trip through curl's auth logic.
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("X-ClickHouse-User: " + config.user).c_str());
  headers = curl_slist_append(headers, ("X-ClickHouse-Key: " + config.password).c_str());
  // No "Expect: 100-continue" round trip before large insert bodies.
  headers = curl_slist_append(headers, "Expect:");
  headers_ = headers;
  CURL* h = Handle(curl_);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM, safe in threads
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeouts_.connect.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeouts_.request.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response_.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &ReadHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response_.exception_code);
}

ClickHouseClient::~ClickHouseClient() {
  if (curl_ != nullptr) curl_easy_cleanup(Handle(curl_));
  if (headers_ != nullptr) curl_slist_free_all(static_cast<curl_slist*>(headers_));
}

std::string ClickHouseClient::BuildUrl(const ClickHouseSettings& params) const {
  std::string url = url_ + "/";
  char separator = '?';
  for (const auto& [key, value] : params) {
    char* escaped = curl_easy_escape(Handle(curl_), value.data(), static_cast<int>(value.size()));
    if (escaped == nullptr) throw Error("cannot URL-encode a ClickHouse parameter");
    url += separator;
    url += key;
    url += '=';
    url += escaped;
    curl_free(escaped);
    separator = '&';
  }
  return url;
}

ClickHouseClient::Response ClickHouseClient::Perform(const std::string& url, std::string_view body,
                                                     bool post) {
  CURL* h = Handle(curl_);
  response_.status = 0;
  response_.body.clear();
  response_.exception_code.clear();
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  if (post) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    // POSTFIELDS points at the caller's buffer (no copy); it lives until perform returns.
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);
  if (rc != CURLE_OK) {
    std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      throw Error(fmt::format("clickhouse.url '{}' is not usable: {}", url_, detail));
    }
    throw ClickHouseUnavailable(fmt::format("ClickHouse at {} is unavailable: {}", url_, detail));
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response_.status);
  // Moved-from strings stay valid; the next Perform clears them before the callbacks write.
  return std::move(response_);
}

std::string ClickHouseClient::Send(const std::string& sql_for_errors, ClickHouseSettings params,
                                   std::string_view body) {
  if (!database_.empty() && !params.contains("database")) params["database"] = database_;
  Response response = Perform(BuildUrl(params), body, /*post=*/true);
  if (response.status == 200) return std::move(response.body);

  ParsedServerError parsed = ParseServerError(response.body);
  if (!response.exception_code.empty()) {
    int header_code = 0;
    const std::string& text = response.exception_code;
    if (std::from_chars(text.data(), text.data() + text.size(), header_code).ec == std::errc()) {
      parsed.code = header_code;
    }
  }
  if (parsed.code == 0 && (response.status == 502 || response.status == 503 || response.status == 504)) {
    // A proxy or load balancer in front of a server that is down or restarting.
    throw ClickHouseUnavailable(fmt::format("ClickHouse at {} is unavailable: HTTP {}: {}", url_,
                                            response.status, parsed.message));
  }
  throw ClickHouseError(parsed.code, parsed.message,
                        fmt::format("ClickHouse error {} (HTTP {}): {} [{}]", parsed.code,
                                    response.status, parsed.message, Abbreviate(sql_for_errors)));
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

void ClickHouseClient::Insert(const std::string& table_and_columns, const std::string& format,
                              std::string_view data, const ClickHouseSettings& settings) {
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
    throw Error(fmt::format("expected one integer from ClickHouse, got '{}' [{}]", Abbreviate(text),
                            Abbreviate(sql)));
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
