#include "stack/airflow_server.h"

#include <nlohmann/json.hpp>

#include <optional>

#include "common/error.h"
#include "common/http_client.h"

namespace clickflow::stack {

namespace fs = std::filesystem;

namespace {

// The key of each background process in the health document.
const char* HealthKey(AirflowServer::Role role) {
  switch (role) {
    case AirflowServer::Role::kScheduler:
      return "scheduler";
    case AirflowServer::Role::kDagProcessor:
      return "dag_processor";
    case AirflowServer::Role::kTriggerer:
      return "triggerer";
    default:
      return "metadatabase";
  }
}

}  // namespace

AirflowServer::AirflowServer(const Config& config, Role role) : Component(config), role_(role), home_(config) {}

std::string AirflowServer::Name() const {
  switch (role_) {
    case Role::kApiServer:
      return "airflow-api-server";
    case Role::kScheduler:
      return "airflow-scheduler";
    case Role::kDagProcessor:
      return "airflow-dag-processor";
    case Role::kTriggerer:
      return "airflow-triggerer";
  }
  return "airflow";
}

std::vector<int> AirflowServer::Ports() const {
  if (role_ == Role::kApiServer) return {config_.stack.airflow_port};
  return {};
}

void AirflowServer::CheckInstalled() const {
  home_.CheckInstalled();
  if (!fs::is_directory(config_.Resource("airflow/dags"))) {
    throw Error("no DAG folder at " + config_.Resource("airflow/dags").string() + ": check resources_dir in " +
                config_.source);
  }
}

void AirflowServer::Prepare() {
  home_.Render();
  // Every role may be the first to start after a crash; the stamp makes this cheap.
  home_.MigrateOnce();
}

SpawnOptions AirflowServer::Command() const {
  SpawnOptions s;
  s.argv = {home_.Airflow().string()};
  switch (role_) {
    case Role::kApiServer:
      // Host, port and workers come from airflow.cfg ([api]).
      s.argv.push_back("api-server");
      break;
    case Role::kScheduler:
      // The api-server reads task logs straight from the shared log folder, so the log
      // servers (8793, 8794 on every address) are not needed and would clash between stacks.
      s.argv.insert(s.argv.end(), {"scheduler", "--skip-serve-logs"});
      break;
    case Role::kDagProcessor:
      s.argv.push_back("dag-processor");
      break;
    case Role::kTriggerer:
      s.argv.insert(s.argv.end(), {"triggerer", "--skip-serve-logs"});
      break;
  }
  s.env = home_.Env();
  s.working_dir = home_.Dir();
  s.log_file = LogFile();
  return s;
}

bool AirflowServer::Healthy() const {
  const auto body = HttpGet(AirflowLocalUrl(config_) + "/api/v2/monitor/health", std::chrono::milliseconds(3000));
  if (role_ == Role::kApiServer) return body.has_value();
  // The api-server being down is its own component's problem (the supervisor restarts it);
  // this process is alive, which the supervisor already checks, so do not restart it too.
  if (!body) return true;
  try {
    const auto doc = nlohmann::json::parse(*body);
    const auto& status = doc.at(HealthKey(role_)).at("status");
    return status.is_string() && status.get<std::string>() == "healthy";
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

std::chrono::seconds AirflowServer::StartTimeout() const {
  // Measured ~25 s for the api-server on a loaded 2-core machine; the first heartbeat of the
  // others follows a few seconds after they start. Generous for slow CI machines.
  return std::chrono::seconds(role_ == Role::kApiServer ? 240 : 180);
}

}  // namespace clickflow::stack
