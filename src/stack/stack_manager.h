#pragma once
// `clickflow stack up|down|status|logs`: the user-facing side of the supervisor.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/config.h"

namespace clickflow::stack {

// Checks binaries and ports, starts the supervisor detached and waits until every component is
// healthy (printing one line each). `config_path` is passed on to the supervisor.
void StackUp(const Config& config, const std::string& config_path);

// Stops the supervisor (which stops the servers in reverse order) and anything it left behind.
void StackDown(const Config& config);

// The state of the data next to the servers' (loader lag per topic, warehouse freshness), as
// the "pipeline" object of the status document. The stack manages processes and knows nothing
// of the data path, so the caller hands it this reader (the CLI passes PipelineStatusJson).
using PipelineStatusReader = std::function<nlohmann::json(const Config&)>;

// Prints each component's state, port, PID, memory and uptime, then the pipeline (none when
// `pipeline` is empty); returns true if all healthy.
bool StackStatus(const Config& config, bool as_json, const PipelineStatusReader& pipeline);

// What `stack status --json` prints and the supervisor's /status serves: components (state,
// pid, ports, memory, uptime, restarts) and the pipeline (lag per topic, facts, freshness).
struct StatusReport {
  nlohmann::json doc;
  bool healthy = false;  // supervisor running and every component healthy
};
StatusReport ReadStatus(const Config& config, const PipelineStatusReader& pipeline);
// The same as Prometheus text (the supervisor's /metrics).
std::string StatusMetrics(const StatusReport& report);

// Prints the last `lines` of each log (one component or all); `follow` keeps reading.
void StackLogs(const Config& config, const std::string& component, int lines, bool follow);

// Refuses default passwords when any listener is not on loopback.
void CheckSecureBinding(const Config& config);

}  // namespace clickflow::stack
