#include "stack/superset_api.h"

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace clickflow::stack {

namespace {

std::string Excerpt(const std::string& body) { return body.size() > 600 ? body.substr(0, 600) + "..." : body; }

}  // namespace

SupersetApi::SupersetApi(const std::string& base_url, const std::string& user, const std::string& password)
    : base_url_(base_url), http_([] {
        HttpClientOptions options;
        options.cookies = true;                       // in-memory cookie engine: the session
        options.timeout = std::chrono::seconds(300);  // a bundle import writes a few hundred rows
        return options;
      }()) {
  const nlohmann::json login = {{"username", user}, {"password", password}, {"provider", "db"}, {"refresh", false}};
  Response r = Request("POST", "/api/v1/security/login", login.dump(), {});
  if (r.status != 200) throw Error("superset: login as " + user + " refused (HTTP " + std::to_string(r.status) + ")");
  access_token_ = nlohmann::json::parse(r.body).at("access_token").get<std::string>();
  // Write endpoints check a CSRF token bound to the session cookie set by this call.
  r = Request("GET", "/api/v1/security/csrf_token/", "", {});
  if (r.status != 200)
    throw Error("superset: no CSRF token (HTTP " + std::to_string(r.status) + "): " + Excerpt(r.body));
  csrf_token_ = nlohmann::json::parse(r.body).at("result").get<std::string>();
}

SupersetApi::Response SupersetApi::Request(const std::string& method, const std::string& path,
                                           const std::string& json_body, const std::filesystem::path& upload) const {
  const std::string url = base_url_ + path;
  HttpRequest request;
  request.method = method == "POST" ? HttpMethod::kPost : HttpMethod::kGet;
  if (!access_token_.empty()) request.headers.push_back("Authorization: Bearer " + access_token_);
  if (!csrf_token_.empty()) {
    request.headers.push_back("X-CSRFToken: " + csrf_token_);
    request.headers.push_back("Referer: " + base_url_ + "/");
  }
  if (!upload.empty()) {
    request.form = {{"bundle", "", upload, "application/zip"}, {"overwrite", "true", {}, ""}};
  } else if (request.method == HttpMethod::kPost) {
    request.headers.push_back("Content-Type: application/json");
    request.body = json_body;
  }
  try {
    HttpResponse answer = http_.Perform(url, request);
    return Response{answer.status, std::move(answer.body)};
  } catch (const HttpTransportError& e) {
    throw Error("superset: " + method + " " + url + ": " + e.what());
  }
}

void SupersetApi::ImportAssets(const std::filesystem::path& zip) const {
  Response r = Request("POST", "/api/v1/assets/import/", "", zip);
  if (r.status != 200) {
    throw Error("superset: importing " + zip.string() + " failed (HTTP " + std::to_string(r.status) +
                "): " + Excerpt(r.body));
  }
}

}  // namespace clickflow::stack
