#include "stack/component.h"

#include <pwd.h>
#include <unistd.h>

#include "common/error.h"
#include "stack/airflow_server.h"
#include "stack/clickflow_service.h"
#include "stack/clickhouse_server.h"
#include "stack/kafka_broker.h"
#include "stack/postgres_server.h"
#include "stack/superset_server.h"

namespace clickflow::stack {

namespace fs = std::filesystem;

std::vector<std::unique_ptr<Component>> MakeComponents(const Config& config) {
  std::vector<std::unique_ptr<Component>> out;
  out.push_back(std::make_unique<PostgresServer>(config));
  out.push_back(std::make_unique<ClickHouseServer>(config));
  out.push_back(std::make_unique<KafkaBroker>(config));
  if (config.stack.streaming) {
    using Kind = ClickflowService::Kind;
    out.push_back(std::make_unique<ClickflowService>(config, Kind::kLoader));
    out.push_back(std::make_unique<ClickflowService>(config, Kind::kWarehouseWatch));
  }
  if (config.stack.airflow) {
    // The api-server first: the others report their health through it, and tasks need it.
    using Role = AirflowServer::Role;
    for (Role role : {Role::kApiServer, Role::kScheduler, Role::kDagProcessor, Role::kTriggerer}) {
      out.push_back(std::make_unique<AirflowServer>(config, role));
    }
  }
  if (config.stack.superset) out.push_back(std::make_unique<SupersetServer>(config));
  return out;
}

std::string ServiceUser(const std::string& wanted) {
  if (::geteuid() != 0) return "";
  if (!::getpwnam(wanted.c_str())) throw Error("running as root needs the system user '" + wanted + "'");
  return wanted;
}

void ChownTo(const fs::path& path, const std::string& user) {
  if (user.empty()) return;
  passwd* pw = ::getpwnam(user.c_str());
  if (!pw) throw Error("no such system user: " + user);
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw Error("cannot chown " + path.string());
}

void PrepareOwnedDir(const fs::path& dir, const std::string& user) {
  fs::create_directories(dir);
  if (user.empty()) return;
  ChownTo(dir, user);
  // The service user must be able to reach the folder through its parents.
  for (fs::path p = dir.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    auto perms = fs::status(p).permissions();
    if ((perms & fs::perms::others_exec) == fs::perms::none) {
      fs::permissions(p, fs::perms::others_exec | fs::perms::group_exec, fs::perm_options::add);
    }
  }
}

}  // namespace clickflow::stack
