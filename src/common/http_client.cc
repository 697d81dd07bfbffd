#include "common/http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <mutex>

namespace clickflow {
namespace {

constexpr size_t kErrorBodyLimit = 1 << 16;

CURL* Handle(void* p) { return static_cast<CURL*>(p); }

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What the callbacks of one Perform see.
struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  CURL* curl;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (!t->request->on_body) {
    t->response->body.append(data, n);
    return n;
  }
  if (t->response->status == 0) curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->response->status);
  if (t->response->status != 200) {
    if (t->response->body.size() < kErrorBodyLimit) t->response->body.append(data, n);
    return n;
  }
  return t->request->on_body(std::string_view(data, n)) ? n : 0;
}

size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (!t->request->on_header) return n;
  const std::string_view line(data, n);
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // the status line, the blank end of the headers
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  t->request->on_header(line.substr(0, colon), value);
  return n;
}

size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  return static_cast<const HttpRequest*>(user)->read_body(buffer, size * count);
}

curl_slist* AppendHeader(curl_slist* list, const char* header) {
  curl_slist* grown = curl_slist_append(list, header);
  if (grown == nullptr) {
    curl_slist_free_all(list);
    throw Error("cannot build HTTP headers (out of memory)");
  }
  return grown;
}

curl_mime* BuildForm(CURL* curl, const std::vector<HttpFormPart>& form) {
  curl_mime* mime = curl_mime_init(curl);
  for (const HttpFormPart& field : form) {
    curl_mimepart* part = curl_mime_addpart(mime);
    curl_mime_name(part, field.name.c_str());
    if (!field.file.empty()) {
      curl_mime_filedata(part, field.file.c_str());
    } else {
      curl_mime_data(part, field.data.data(), field.data.size());
    }
    if (!field.content_type.empty()) curl_mime_type(part, field.content_type.c_str());
  }
  return mime;
}

}  // namespace

bool HeaderNameIs(std::string_view name, std::string_view wanted) {
  if (name.size() != wanted.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != std::tolower(static_cast<unsigned char>(wanted[i]))) {
      return false;
    }
  }
  return true;
}

HttpClient::HttpClient(const HttpClientOptions& options) {
  InitCurlOnce();
  curl_slist* headers = nullptr;
  for (const std::string& header : options.headers) headers = AppendHeader(headers, header.c_str());
  curl_ = curl_easy_init();
  if (curl_ == nullptr) {
    curl_slist_free_all(headers);
    throw Error("cannot initialise libcurl");
  }
  headers_ = headers;
  CURL* h = Handle(curl_);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM, safe in threads
  if (options.tcp_keepalive) curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  if (options.cookies) curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
  if (options.connect_timeout.count() > 0) {
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  }
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  if (options.stall_timeout.count() > 0) {
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stall_timeout.count()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &ReadHeader);
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(Handle(curl_));
  if (headers_ != nullptr) curl_slist_free_all(static_cast<curl_slist*>(headers_));
}

void HttpClient::AppendEscaped(std::string& url, std::string_view value) {
  char* escaped = curl_easy_escape(Handle(curl_), value.data(), static_cast<int>(value.size()));
  if (escaped == nullptr) throw Error("cannot URL-encode an HTTP parameter");
  url += escaped;
  curl_free(escaped);
}

HttpResponse HttpClient::Perform(const std::string& url, const HttpRequest& request) {
  CURL* h = Handle(curl_);
  HttpResponse response;
  Transfer transfer{&request, &response, h};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_slist* headers = nullptr;
  if (!request.headers.empty()) {
    // libcurl sends one list per request: the client's own headers, then this request's.
    for (const curl_slist* own = static_cast<curl_slist*>(headers_); own != nullptr; own = own->next) {
      headers = AppendHeader(headers, own->data);
    }
    for (const std::string& header : request.headers) headers = AppendHeader(headers, header.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  }
  curl_mime* form = nullptr;
  if (request.method == HttpMethod::kGet) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (!request.form.empty()) {
    form = BuildForm(h, request.form);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, form);
  } else if (request.read_body) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadBody);
    curl_easy_setopt(h, CURLOPT_READDATA, &request);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body_size));
  } else {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    // Points at the caller's buffer (no copy); it lives until perform returns.
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  // The handle outlives this call: detach what pointed into this request.
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (request.method == HttpMethod::kPost) curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);
  if (form != nullptr) {
    curl_easy_setopt(h, CURLOPT_MIMEPOST, nullptr);
    curl_mime_free(form);
  }
  if (request.read_body) curl_easy_setopt(h, CURLOPT_READFUNCTION, nullptr);
  if (headers != nullptr) {
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
    curl_slist_free_all(headers);
  }
  if (rc != CURLE_OK) {
    const std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    throw HttpTransportError(detail, rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL);
  }
  return response;
}

std::optional<std::string> HttpGet(const std::string& url, std::chrono::milliseconds timeout) {
  try {
    HttpClientOptions options;
    options.timeout = timeout;
    HttpClient client(options);
    HttpResponse response = client.Perform(url, HttpRequest{});
    if (response.status != 200) return std::nullopt;
    return std::move(response.body);
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace clickflow
