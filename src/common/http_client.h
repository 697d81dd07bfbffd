#pragma once
// The one HTTP client, over libcurl. An HttpClient owns one easy handle and reuses it for every
// request, so consecutive requests to one server ride one keep-alive connection. Bodies go
// both ways without copies: a request body is sent from the caller's buffer (or pulled from a
// callback), a response body is collected into a string (or pushed to a callback as it comes).
//
// Not thread-safe: a client belongs to one thread at a time.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace clickflow {

// The request did not get an answer: refused, DNS, reset, timeout, an unusable URL, or a body
// callback that gave up.
class HttpTransportError : public Error {
 public:
  HttpTransportError(const std::string& detail, bool unusable_url) : Error(detail), unusable_url_(unusable_url) {}
  // The URL is malformed or names a protocol libcurl does not speak: retrying cannot help.
  bool unusable_url() const { return unusable_url_; }

 private:
  bool unusable_url_;
};

enum class HttpMethod { kGet, kPost };

// One part of a multipart/form-data POST: `data`, or the content of `file` when set.
struct HttpFormPart {
  std::string name;
  std::string data;
  std::filesystem::path file;
  std::string content_type;  // empty = libcurl's choice
};

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  // kPost: the body, sent from the caller's buffer as is (it must live until Perform returns).
  std::string_view body;
  // kPost: a body pulled from this callback instead (fill `buffer`, return the bytes written,
  // 0 at the end) with `body_size` bytes in all.
  std::function<size_t(char* buffer, size_t capacity)> read_body;
  uint64_t body_size = 0;
  // kPost: a multipart/form-data body instead.
  std::vector<HttpFormPart> form;
  // "Name: value" lines sent with this request only, after the client's own.
  std::vector<std::string> headers;
  // Each response header as it arrives (name as sent, value trimmed).
  std::function<void(std::string_view name, std::string_view value)> on_header;
  // When set, the body of a 200 answer goes here chunk by chunk instead of into
  // HttpResponse::body; returning false aborts the transfer (HttpTransportError). The body of
  // any other answer, an error text, still goes into HttpResponse::body (its first 64 KiB).
  std::function<bool(std::string_view chunk)> on_body;
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{0};  // 0 = libcurl's default (300 s)
  std::chrono::milliseconds timeout{0};          // the whole request; 0 = none
  // Give up when less than one byte a second moves for this long (a stalled link); 0 = never.
  std::chrono::seconds stall_timeout{0};
  bool tcp_keepalive = false;
  bool cookies = false;  // in-memory cookie engine: a login session across requests
  // "Name: value" lines sent with every request; "Name:" removes a header libcurl would add
  // (e.g. "Expect:" saves the 100-continue round trip before a large body).
  std::vector<std::string> headers;
};

class HttpClient {
 public:
  explicit HttpClient(const HttpClientOptions& options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and returns the answer, whatever its status. Throws HttpTransportError
  // when there is no answer.
  HttpResponse Perform(const std::string& url, const HttpRequest& request);

  // Appends `value` to `url` percent-encoded (for query parameters).
  void AppendEscaped(std::string& url, std::string_view value);

 private:
  void* curl_ = nullptr;     // CURL*, kept opaque so callers need no curl headers
  void* headers_ = nullptr;  // curl_slist* of the options' headers
};

// True when header `name` is `wanted`, ignoring case (HTTP header names are case-insensitive).
bool HeaderNameIs(std::string_view name, std::string_view wanted);

// A one-shot GET for health checks (ClickHouse /ping, Airflow's health document): the body of a
// 200 answer; nullopt for anything else (refused, timeout, other status). Never throws.
std::optional<std::string> HttpGet(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace clickflow
