#include "stack/stack_manager.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <ctime>
#include <iostream>
#include <thread>

#include "common/error.h"
#include "common/net.h"
#include "common/process.h"
#include "common/prometheus.h"
#include "stack/component.h"
#include "stack/state.h"

namespace clickflow::stack {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Airflow's first start (database migration, then four Python processes) is most of it.
constexpr auto kUpTimeout = std::chrono::seconds(600);

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string Tail(const fs::path& file, int lines) {
  SpawnOptions tail;
  tail.argv = {"tail", "-n", std::to_string(lines), file.string()};
  return RunCommand(tail).output;
}

bool SupervisorAlive(const std::optional<StackState>& state) {
  return state && state->supervisor_pid > 0 && IsAlive(state->supervisor_pid);
}

// A supervisor killed with -9 leaves its servers running: stop what the state file recorded.
void StopLeftovers(const Config& config, const StackState& state) {
  for (auto it = state.components.rbegin(); it != state.components.rend(); ++it) {
    if (it->pid > 0 && IsAlive(it->pid)) {
      std::cout << fmt::format("stopping leftover {} (pid {})\n", it->name, it->pid);
      Stop(it->pid, std::chrono::seconds(30));
    }
  }
  std::error_code ec;
  fs::remove(StateFile(config.RunDir()), ec);
}

}  // namespace

void CheckSecureBinding(const Config& config) {
  const bool loopback = IsLoopback(config.stack.host) && IsLoopback(ParseHostPort(config.kafka.bootstrap_servers).host);
  if (loopback) return;
  if (config.clickhouse.password == "clickhouse" || config.clickhouse.readonly_password == "dashboards" ||
      config.stack.postgres_password == "clickflow") {
    throw Error("refusing to listen on " + config.stack.host +
                " with default passwords: set clickhouse.password, clickhouse.readonly_password and "
                "stack.postgres_password in " +
                config.source);
  }
  // Airflow's login is seeded admin/admin for local use only.
  if (config.stack.airflow && config.stack.airflow_password == "admin") {
    throw Error("refusing to listen on " + config.stack.host +
                " with Airflow's default login admin/admin: set stack.airflow_password in " + config.source);
  }
  if (config.stack.superset && config.stack.superset_password == "admin") {
    throw Error("refusing to listen on " + config.stack.host +
                " with Superset's default login admin/admin: set stack.superset_password in " + config.source);
  }
}

void StackUp(const Config& config, const std::string& config_path) {
  auto previous = ReadState(config.RunDir());
  if (SupervisorAlive(previous)) {
    std::cout << "stack already running (supervisor pid " << previous->supervisor_pid << ")\n";
    StackStatus(config, false, {});
    return;
  }
  if (previous) StopLeftovers(config, *previous);

  CheckSecureBinding(config);
  if (!PortIsFree(config.stack.host, config.stack.status_port)) {
    throw Error(
        fmt::format("port {} (the stack's status endpoint, stack.status_port) is already in use on {}: "
                    "stop what listens there or choose another port in {}",
                    config.stack.status_port, config.stack.host, config.source));
  }
  auto components = MakeComponents(config);
  for (const auto& c : components) {
    c->CheckInstalled();
    for (int port : c->Ports()) {
      if (!PortIsFree(config.stack.host, port)) {
        throw Error(
            fmt::format("port {} ({}) is already in use on {}: stop what listens there or "
                        "choose another port in {}",
                        port, c->Name(), config.stack.host, config.source));
      }
    }
  }
  fs::create_directories(config.RunDir());
  fs::create_directories(config.LogDir());

  SpawnOptions supervisor;
  supervisor.argv = {fs::read_symlink("/proc/self/exe").string()};
  // The file actually read (also when found through $CLICKFLOW_CONFIG or ./clickflow.yaml):
  // the supervisor runs in the data dir, where a relative or implicit path means nothing.
  const std::string file = config.source != "defaults" ? config.source : config_path;
  if (!file.empty()) {
    supervisor.argv.push_back("--config");
    supervisor.argv.push_back(fs::absolute(file).string());
  }
  supervisor.argv.push_back("stack");
  supervisor.argv.push_back("supervise");
  supervisor.log_file = config.LogDir() / "supervisor.log";
  supervisor.working_dir = config.data_dir;
  const pid_t pid = Spawn(supervisor);
  std::cout << fmt::format("starting the stack in {} (supervisor pid {}, logs in {})\n", config.data_dir.string(), pid,
                           config.LogDir().string());

  const auto begin = Clock::now();
  std::map<std::string, std::string> reported;
  while (Clock::now() - begin < kUpTimeout) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto state = ReadState(config.RunDir());
    if (state && state->supervisor_pid == pid) {
      for (const auto& c : state->components) {
        if (reported[c.name] != c.state && (c.state == "healthy" || c.state == "failed")) {
          reported[c.name] = c.state;
          double secs = std::chrono::duration<double>(Clock::now() - begin).count();
          std::cout << fmt::format("  {:<21} {:<8} {:>6.1f} s\n", c.name, c.state, secs) << std::flush;
        }
      }
      if (state->state == "running") return;
      if (state->state == "failed") {
        TryReap(pid);
        throw Error("stack failed to start: " + state->error + "\nlast lines of the supervisor log:\n" +
                    Tail(config.LogDir() / "supervisor.log", 15));
      }
    }
    if (auto code = TryReap(pid)) {
      throw Error(fmt::format("the supervisor exited with code {}; last lines of its log:\n{}", *code,
                              Tail(config.LogDir() / "supervisor.log", 20)));
    }
  }
  throw Error("the stack was not healthy after " + std::to_string(kUpTimeout.count()) + " s; see " +
              config.LogDir().string());
}

void StackDown(const Config& config) {
  auto state = ReadState(config.RunDir());
  if (!state) {
    std::cout << "stack is not running\n";
    return;
  }
  if (SupervisorAlive(state)) {
    std::cout << "stopping the stack (supervisor pid " << state->supervisor_pid << ")\n";
    // The supervisor stops each server with its own grace period, then exits.
    ::kill(state->supervisor_pid, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(150);
    while (IsAlive(state->supervisor_pid) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (IsAlive(state->supervisor_pid)) Stop(state->supervisor_pid, std::chrono::seconds(1));
  }
  StopLeftovers(config, *state);
  std::cout << "stack stopped\n";
}

StatusReport ReadStatus(const Config& config, const PipelineStatusReader& pipeline) {
  StatusReport report;
  auto state = ReadState(config.RunDir());
  const bool supervised = SupervisorAlive(state);
  report.healthy = supervised && state->state == "running";
  report.doc = {{"running", supervised},
                {"state", supervised ? state->state : "stopped"},
                {"components", nlohmann::json::array()}};
  if (!supervised) return report;
  for (const auto& c : state->components) {
    const bool alive = c.pid > 0 && IsAlive(c.pid);
    const long rss = alive ? TreeResidentBytes(c.pid) : 0;  // with its worker processes
    const long uptime = alive ? std::time(nullptr) - c.started_at : 0;
    report.healthy = report.healthy && c.state == "healthy" && alive;
    report.doc["components"].push_back({{"name", c.name},
                                        {"state", c.state},
                                        {"pid", c.pid},
                                        {"alive", alive},
                                        {"ports", c.ports},
                                        {"rss_bytes", rss},
                                        {"uptime_s", uptime},
                                        {"restarts", c.restarts}});
  }
  if (pipeline) report.doc["pipeline"] = pipeline(config);
  return report;
}

std::string StatusMetrics(const StatusReport& report) {
  const auto& doc = report.doc;
  prometheus::Text text;
  text.Single("clickflow_stack_healthy", "gauge", "1 when the supervisor runs and every component is healthy.",
              report.healthy ? 1 : 0);
  // One family per property, each with a sample per component.
  auto per_component = [&](const char* name, const char* type, const char* help, auto value_of) {
    text.Family(name, type, help);
    for (const auto& c : doc["components"]) {
      const std::string component = c["name"].get<std::string>();
      text.Sample(name, value_of(c), {{"component", component}});
    }
  };
  per_component("clickflow_component_up", "gauge", "1 when the component is healthy and its process alive.",
                [](const nlohmann::json& c) { return c["state"] == "healthy" && c["alive"].get<bool>() ? 1 : 0; });
  per_component("clickflow_component_restarts_total", "counter", "Restarts by the supervisor.",
                [](const nlohmann::json& c) { return c["restarts"].get<int>(); });
  per_component("clickflow_component_resident_bytes", "gauge", "Resident memory of the process and its children.",
                [](const nlohmann::json& c) { return static_cast<int64_t>(c["rss_bytes"].get<long>()); });
  if (!doc.contains("pipeline") || !doc["pipeline"]["error"].get<std::string>().empty()) return text.Take();
  const auto& pipeline = doc["pipeline"];
  text.Family("clickflow_topic_lag_messages", "gauge", "Messages in Kafka not yet in staging, per topic.");
  for (const auto& t : pipeline["topics"]) {
    const std::string topic = t["topic"].get<std::string>();
    text.Sample("clickflow_topic_lag_messages", t["lag"].get<int64_t>(), {{"topic", topic}});
  }
  text.Single("clickflow_fact_events_rows", "gauge", "Rows in fact_events.", pipeline["facts"].get<int64_t>());
  if (!pipeline["newest_fact_age_s"].is_null()) {
    text.Single("clickflow_newest_fact_age_seconds", "gauge", "Age of the newest event in fact_events.",
                pipeline["newest_fact_age_s"].get<int64_t>());
  }
  if (!pipeline["newest_load_age_s"].is_null()) {
    text.Single("clickflow_newest_load_age_seconds", "gauge", "Age of the newest staging load.",
                pipeline["newest_load_age_s"].get<int64_t>());
  }
  return text.Take();
}

bool StackStatus(const Config& config, bool as_json, const PipelineStatusReader& pipeline_reader) {
  const StatusReport report = ReadStatus(config, pipeline_reader);
  const auto& doc = report.doc;
  if (as_json) {
    std::cout << doc.dump(2) << "\n";
    return report.healthy;
  }
  const bool running = doc["running"].get<bool>();
  std::cout << fmt::format("stack: {} (data dir {})\n", doc["state"].get<std::string>(), config.data_dir.string());
  if (!running) return false;
  std::cout << fmt::format("{:<21} {:<10} {:<12} {:>8} {:>9} {:>9} {:>8}\n", "COMPONENT", "STATE", "PORTS", "PID",
                           "RSS MB", "UPTIME", "RESTARTS");
  for (const auto& c : doc["components"]) {
    std::string ports;
    for (int p : c["ports"]) ports += (ports.empty() ? "" : ",") + std::to_string(p);
    std::cout << fmt::format("{:<21} {:<10} {:<12} {:>8} {:>9} {:>8}s {:>8}\n", c["name"].get<std::string>(),
                             c["state"].get<std::string>(), ports, c["pid"].get<int>(),
                             c["rss_bytes"].get<long>() / (1024 * 1024), c["uptime_s"].get<long>(),
                             c["restarts"].get<int>());
  }
  std::cout << fmt::format("status endpoint: http://{}:{}/status (JSON), /metrics (Prometheus)\n", config.stack.host,
                           config.stack.status_port);
  if (!doc.contains("pipeline")) return report.healthy;
  const auto& pipeline = doc["pipeline"];
  if (!pipeline["error"].get<std::string>().empty()) {
    std::cout << "\npipeline: unavailable (" << pipeline["error"].get<std::string>() << ")\n";
    return report.healthy;
  }
  std::cout << fmt::format("\n{:<21} {:>12} {:>10}\n", "TOPIC", "END OFFSET", "LAG");
  for (const auto& t : pipeline["topics"]) {
    std::cout << fmt::format("{:<21} {:>12} {:>10}\n", t["topic"].get<std::string>(), t["end_offset"].get<int64_t>(),
                             t["lag"].get<int64_t>());
  }
  auto age = [](const nlohmann::json& s) {
    return s.is_null() ? std::string("none yet") : fmt::format("{} s ago", s.get<int64_t>());
  };
  std::cout << fmt::format("\nfact_events: {} rows; newest event {}; newest staging load {}\n",
                           pipeline["facts"].get<int64_t>(), age(pipeline["newest_fact_age_s"]),
                           age(pipeline["newest_load_age_s"]));
  return report.healthy;
}

void StackLogs(const Config& config, const std::string& component, int lines, bool follow) {
  std::vector<std::string> argv = {"tail", "-n", std::to_string(lines)};
  if (follow) argv.push_back("-F");
  bool any = false;
  for (const auto& entry : fs::directory_iterator(config.LogDir())) {
    if (!entry.is_regular_file() || entry.path().extension() != ".log") continue;
    if (!component.empty() && entry.path().stem() != component) continue;
    argv.push_back(entry.path().string());
    any = true;
  }
  if (!any) throw Error("no log named '" + component + "' in " + config.LogDir().string());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  ::execvp("tail", args.data());
  throw Error("cannot run tail");
}

}  // namespace clickflow::stack
