#include "clickhouse/stream.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "clickhouse/http.h"
#include "common/error.h"
#include "common/process.h"

namespace clickflow {
namespace fs = std::filesystem;
namespace {

HttpClient StreamingClient(const ClickHouseConfig& config) {
  HttpClientOptions options = ClickHouseHttpOptions(config);
  options.connect_timeout = std::chrono::seconds(10);
  options.stall_timeout = std::chrono::hours(1);
  return HttpClient(options);
}

std::string BaseUrl(const ClickHouseConfig& config) {
  std::string url = config.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The server's error text; with HTTP compression on, it may itself be gzip.
std::string ErrorText(const std::string& body) {
  if (body.size() < 2 || static_cast<unsigned char>(body[0]) != 0x1f || static_cast<unsigned char>(body[1]) != 0x8b) {
    return body;
  }
  char pattern[] = "/tmp/clickflow-stream-error-XXXXXX";
  const int fd = ::mkstemp(pattern);
  if (fd < 0) return "(compressed error body)";
  (void)!::write(fd, body.data(), body.size());
  ::close(fd);
  SpawnOptions gunzip;
  gunzip.argv = {"gzip", "-dc", pattern};
  gunzip.new_session = false;
  CommandResult r = RunCommand(gunzip);
  ::unlink(pattern);
  return r.exit_code == 0 ? r.output : "(compressed error body)";
}

// Sends `request`, turning what goes wrong into ClickHouse's errors.
void Send(HttpClient& http, const std::string& base_url, const std::string& url, HttpRequest& request,
          const std::string& sql_for_errors) {
  std::string exception_code;
  request.on_header = [&exception_code](std::string_view name, std::string_view value) {
    if (HeaderNameIs(name, "X-ClickHouse-Exception-Code")) exception_code = value;
  };
  HttpResponse response;
  try {
    response = http.Perform(url, request);
  } catch (const HttpTransportError& e) {
    ThrowTransportError(e, base_url);
  }
  if (response.status != 200) {
    ThrowAnswerError(base_url, response.status, ErrorText(response.body), exception_code, sql_for_errors);
  }
}

}  // namespace

uint64_t StreamQuery(const ClickHouseConfig& config, const std::string& sql, ClickHouseSettings settings,
                     const StreamOptions& options, const std::function<bool(std::string_view chunk)>& sink) {
  HttpClient http = StreamingClient(config);
  HttpRequest request;
  request.method = HttpMethod::kPost;
  request.body = sql;
  if (options.gzip) {
    request.headers.push_back("Accept-Encoding: gzip");
    settings["enable_http_compression"] = "1";
  }
  // The server buffers the whole result (in memory up to buffer_size, then in a temporary file
  // of its tmp_path) before the status line: an error half way is an HTTP error, never a 200
  // with an exception glued to a truncated stream.
  settings["wait_end_of_query"] = "1";
  uint64_t bytes = 0;
  bool sink_failed = false;
  request.on_body = [&](std::string_view chunk) {
    if (!sink(chunk)) {
      sink_failed = true;
      return false;
    }
    bytes += chunk.size();
    return true;
  };
  const std::string base_url = BaseUrl(config);
  try {
    Send(http, base_url, ClickHouseUrl(http, base_url, settings), request, sql);
  } catch (const ClickHouseUnavailable&) {
    if (sink_failed) throw Error(fmt::format("the result of [{}] could not be stored", Abbreviate(sql)));
    throw;
  }
  return bytes;
}

void InsertFile(const ClickHouseConfig& config, const std::string& table, const std::string& format,
                const fs::path& file, bool gzip) {
  HttpClient http = StreamingClient(config);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!in) throw Error("cannot read " + file.string());
  HttpRequest request;
  request.method = HttpMethod::kPost;
  request.body_size = fs::file_size(file);
  request.read_body = [&in](char* buffer, size_t capacity) { return std::fread(buffer, 1, capacity, in.get()); };
  request.headers.push_back("Content-Type: application/octet-stream");
  if (gzip) request.headers.push_back("Content-Encoding: gzip");
  const std::string query = fmt::format("INSERT INTO {} FORMAT {}", table, format);
  const std::string base_url = BaseUrl(config);
  Send(http, base_url, ClickHouseUrl(http, base_url, {{"query", query}}), request, query);
  if (std::ferror(in.get())) throw Error("cannot read " + file.string());
}

}  // namespace clickflow
