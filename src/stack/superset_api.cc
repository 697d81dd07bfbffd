#include "stack/superset_api.h"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace clickflow::stack {

namespace {

std::string Excerpt(const std::string& body) { return body.size() > 600 ? body.substr(0, 600) + "..." : body; }

}  // namespace

SupersetApi::SupersetApi(const std::string& base_url, const std::string& user, const std::string& password)
    : base_url_(base_url), curl_(curl_easy_init()) {
  if (!curl_) throw Error("superset: cannot create an HTTP handle");
  curl_easy_setopt(curl_, CURLOPT_COOKIEFILE, "");  // in-memory cookie engine: the session
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  const nlohmann::json login = {{"username", user}, {"password", password}, {"provider", "db"}, {"refresh", false}};
  Response r = Request("POST", "/api/v1/security/login", login.dump(), {});
  if (r.status != 200) throw Error("superset: login as " + user + " refused (HTTP " + std::to_string(r.status) + ")");
  access_token_ = nlohmann::json::parse(r.body).at("access_token").get<std::string>();
  // Write endpoints check a CSRF token bound to the session cookie set by this call.
  r = Request("GET", "/api/v1/security/csrf_token/", "", {});
  if (r.status != 200) throw Error("superset: no CSRF token (HTTP " + std::to_string(r.status) + "): " + Excerpt(r.body));
  csrf_token_ = nlohmann::json::parse(r.body).at("result").get<std::string>();
}

SupersetApi::~SupersetApi() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

SupersetApi::Response SupersetApi::Request(const std::string& method, const std::string& path,
                                           const std::string& json_body,
                                           const std::filesystem::path& upload) const {
  CURL* curl = static_cast<CURL*>(curl_);
  Response out;
  const std::string url = base_url_ + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);  // a bundle import writes a few hundred rows
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* body) {
    static_cast<std::string*>(body)->append(p, s * n);
    return s * n;
  });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);

  curl_slist* headers = nullptr;
  if (!access_token_.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + access_token_).c_str());
  if (!csrf_token_.empty()) {
    headers = curl_slist_append(headers, ("X-CSRFToken: " + csrf_token_).c_str());
    headers = curl_slist_append(headers, ("Referer: " + base_url_ + "/").c_str());
  }
  curl_mime* mime = nullptr;
  if (!upload.empty()) {
    mime = curl_mime_init(curl);
    curl_mimepart* part = curl_mime_addpart(mime);
    curl_mime_name(part, "bundle");
    curl_mime_filedata(part, upload.c_str());
    curl_mime_type(part, "application/zip");
    part = curl_mime_addpart(mime);
    curl_mime_name(part, "overwrite");
    curl_mime_data(part, "true", CURL_ZERO_TERMINATED);
    curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
  } else if (method == "POST") {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(json_body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  // The handle outlives this call: detach what was set for it only.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_MIMEPOST, nullptr);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, nullptr);
  curl_slist_free_all(headers);
  curl_mime_free(mime);
  if (code != CURLE_OK) throw Error("superset: " + method + " " + url + ": " + curl_easy_strerror(code));
  return out;
}

void SupersetApi::ImportAssets(const std::filesystem::path& zip) const {
  Response r = Request("POST", "/api/v1/assets/import/", "", zip);
  if (r.status != 200) {
    throw Error("superset: importing " + zip.string() + " failed (HTTP " + std::to_string(r.status) +
                "): " + Excerpt(r.body));
  }
}

}  // namespace clickflow::stack
