#include "stack/superset_server.h"

#include "common/http_client.h"

namespace clickflow::stack {

void SupersetServer::Prepare() {
  home_.Render();
  // Stamped, so a restart after a crash costs nothing; the first start of an install takes
  // half a minute to two.
  home_.InitOnce();
}

SpawnOptions SupersetServer::Command() const {
  SpawnOptions s;
  // One worker with threads: dashboards fire their chart queries in parallel, and each worker
  // costs ~300 MB. The timeout covers the slowest chart query (SQLLAB_TIMEOUT is 60 s).
  s.argv = {home_.Bin("gunicorn").string(),
            "--bind",
            config_.stack.host + ":" + std::to_string(config_.stack.superset_port),
            "--workers",
            "1",
            "--threads",
            "8",
            "--worker-class",
            "gthread",
            "--timeout",
            "120",
            "--limit-request-line",
            "0",
            "--limit-request-field_size",
            "0",
            "superset.app:create_app()"};
  s.env = home_.Env();
  s.working_dir = home_.Dir();
  s.log_file = LogFile();
  return s;
}

bool SupersetServer::Healthy() const {
  const auto body = HttpGet(SupersetLocalUrl(config_) + "/health", std::chrono::milliseconds(3000));
  return body && body->starts_with("OK");
}

std::chrono::seconds SupersetServer::StartTimeout() const {
  // create_app() imports most of Superset: ~20 s on a loaded 2-core machine.
  return std::chrono::seconds(180);
}

}  // namespace clickflow::stack
