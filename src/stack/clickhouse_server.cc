#include "stack/clickhouse_server.h"

#include "common/error.h"
#include "common/http_client.h"
#include "common/net.h"
#include "common/template.h"

namespace clickflow::stack {

namespace fs = std::filesystem;

namespace {

// User names become XML element names in users.xml.
void CheckUserName(const std::string& key, const std::string& name) {
  bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) throw Error(key + ": '" + name + "' must be letters, digits and _ (not starting with a digit)");
}

// chdb's engine runs its boot query (SYSTEM START LISTEN, clickhouse/chdb/server.py) as
// `default` with an empty password, and its clickhouse-local mode reads users only from this
// file, once. So `default` exists, without a password, holding nothing but the right to start
// listeners: it reads no table and changes no setting (docs/clickhouse.md#access).
constexpr const char* kChdbBootUser = R"(<default>
            <no_password/>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
            <grants>
                <query>GRANT SYSTEM LISTEN ON *.*</query>
            </grants>
        </default>)";

}  // namespace

// ClickHouse runs as its own system user when we are root, like Debian's service does.
ClickHouseServer::ClickHouseServer(const Config& config) : Component(config), user_(ServiceUser("clickhouse")) {}

std::vector<int> ClickHouseServer::Ports() const {
  return {UrlPort(config_.clickhouse.url), config_.stack.clickhouse_tcp_port};
}

void ClickHouseServer::CheckInstalled() const {
  if (Chdb()) {
    if (!fs::exists(ChdbPython()) || !fs::exists(ChdbPython().parent_path().parent_path() / ".clickflow-lock.sha256")) {
      throw Error("ClickHouse 26.9 (chdb-core) is not installed in " +
                  ChdbPython().parent_path().parent_path().string() + ": run scripts/install-deps.sh");
    }
    // The engine's own boot query runs as `default`, without a password (docs/clickhouse.md#access).
    if (config_.clickhouse.user == "default" || config_.clickhouse.readonly_user == "default") {
      throw Error("clickhouse.user: 'default' is the chdb engine's in-process user; choose another name");
    }
  } else if (FindExecutable("clickhouse-server").empty()) {
    throw Error("clickhouse-server not found on PATH: run scripts/install-deps.sh");
  }
  CheckUserName("clickhouse.user", config_.clickhouse.user);
  CheckUserName("clickhouse.readonly_user", config_.clickhouse.readonly_user);
  if (config_.clickhouse.user == config_.clickhouse.readonly_user) {
    throw Error("clickhouse.readonly_user must differ from clickhouse.user");
  }
}

void ClickHouseServer::Prepare() {
  const fs::path data = WorkDir() / "data";
  PrepareOwnedDir(WorkDir(), user_);
  PrepareOwnedDir(data, user_);
  PrepareOwnedDir(config_.LogDir() / "clickhouse", user_);
  const std::map<std::string, std::string> values = {
      {"LOG_DIR", (config_.LogDir() / "clickhouse").string()},
      {"HOST", XmlEscape(config_.stack.host)},
      {"HTTP_PORT", std::to_string(UrlPort(config_.clickhouse.url))},
      {"TCP_PORT", std::to_string(config_.stack.clickhouse_tcp_port)},
      {"DATA_DIR", XmlEscape(data.string())},
      {"ADMIN_USER", config_.clickhouse.user},
      {"ADMIN_PASSWORD_SHA256", Sha256Hex(config_.clickhouse.password)},
      {"READONLY_USER", config_.clickhouse.readonly_user},
      {"READONLY_PASSWORD_SHA256", Sha256Hex(config_.clickhouse.readonly_password)},
      {"USERS_FILE", XmlEscape((WorkDir() / "users.xml").string())},
      {"ENGINE_USER", Chdb() ? kChdbBootUser : ""},
  };
  const fs::path templates = config_.Resource("clickhouse/templates");
  RenderTemplateFile(templates / "config.xml", ConfigFile(), values, fs::perms(0640));
  RenderTemplateFile(templates / "users.xml", WorkDir() / "users.xml", values, fs::perms(0600));
  ChownTo(ConfigFile(), user_);
  ChownTo(WorkDir() / "users.xml", user_);
}

SpawnOptions ClickHouseServer::Command() const {
  SpawnOptions s;
  if (Chdb()) {
    // clickhouse-local reads ./config.xml: the working dir below.
    s.argv = {ChdbPython().string(), config_.Resource("clickhouse/chdb/server.py").string(),
              (WorkDir() / "data").string()};
    s.env["PYTHONDONTWRITEBYTECODE"] = "1";
  } else {
    s.argv = {"clickhouse-server", "--config-file=" + ConfigFile().string()};
  }
  s.working_dir = WorkDir();
  s.run_as_user = user_;
  s.log_file = LogFile();
  return s;
}

bool ClickHouseServer::Healthy() const {
  // /ping answers "Ok." once the server accepts queries.
  auto body = HttpGet(config_.clickhouse.url + "/ping", std::chrono::milliseconds(2000));
  return body && body->rfind("Ok.", 0) == 0;
}

}  // namespace clickflow::stack
