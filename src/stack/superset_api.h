#pragma once
// The bits of Superset's REST API the stack uses: sign in (JWT plus the session cookie and CSRF
// token that write endpoints need) and import an assets bundle. One HttpClient per session, so
// its cookie engine carries the session between calls.
#include <filesystem>
#include <string>

#include "common/http_client.h"

namespace clickflow::stack {

class SupersetApi {
 public:
  // Signs in with the db provider; throws Error when Superset refuses or cannot be reached.
  SupersetApi(const std::string& base_url, const std::string& user, const std::string& password);
  SupersetApi(const SupersetApi&) = delete;
  SupersetApi& operator=(const SupersetApi&) = delete;

  // POST /api/v1/assets/import/: creates or overwrites (by uuid) every database, dataset,
  // chart and dashboard of the zip (whose metadata.yaml says `type: assets`). Unlike the
  // import-dashboards CLI, which keeps existing charts and datasets as they are, this makes
  // the install match the bundle. Throws Error with Superset's message on failure.
  void ImportAssets(const std::filesystem::path& zip) const;

  // Any other call of the signed-in session (tests read charts and run SQL Lab with these).
  struct Response {
    long status = 0;
    std::string body;
  };
  Response Get(const std::string& path) const { return Request("GET", path, "", {}); }
  Response PostJson(const std::string& path, const std::string& body) const { return Request("POST", path, body, {}); }

 private:
  Response Request(const std::string& method, const std::string& path, const std::string& json_body,
                   const std::filesystem::path& upload) const;

  std::string base_url_;
  mutable HttpClient http_;  // a call changes the connection and cookies, not the session's meaning
  std::string access_token_;
  std::string csrf_token_;
};

}  // namespace clickflow::stack
