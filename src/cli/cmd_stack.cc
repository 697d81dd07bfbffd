// `clickflow stack up|down|status|logs` (and the hidden `supervise` the supervisor runs as).
#include "cli/commands.h"
#include "ingest/pipeline_status.h"
#include "stack/stack_manager.h"
#include "stack/supervisor.h"

namespace clickflow::cli {

void RegisterStack(CLI::App& app, GlobalOptions& global) {
  auto* stack_cmd = app.add_subcommand("stack", "run the local platform (Kafka, ClickHouse, PostgreSQL)");
  stack_cmd->require_subcommand(1);

  stack_cmd->add_subcommand("up", "start every server and wait until all are healthy")->callback([&global] {
    stack::StackUp(global.LoadConfig(), global.config_path);
  });
  stack_cmd->add_subcommand("down", "stop every server; no process is left behind")->callback([&global] {
    stack::StackDown(global.LoadConfig());
  });

  auto* status = stack_cmd->add_subcommand("status", "state, ports, PID, memory and uptime of each server");
  auto as_json = std::make_shared<bool>(false);
  status->add_flag("--json", *as_json, "machine-readable output");
  status->callback([&global, as_json] {
    if (!stack::StackStatus(global.LoadConfig(), *as_json, PipelineStatusJson)) throw CLI::RuntimeError(3);
  });

  auto* logs = stack_cmd->add_subcommand("logs", "show the servers' logs");
  auto component = std::make_shared<std::string>();
  auto lines = std::make_shared<int>(50);
  auto follow = std::make_shared<bool>(false);
  logs->add_option("component", *component, "postgres, clickhouse, kafka or supervisor (default: all)");
  logs->add_option("-n,--lines", *lines, "lines from the end of each log");
  logs->add_flag("-f,--follow", *follow, "keep printing new lines");
  logs->callback(
      [&global, component, lines, follow] { stack::StackLogs(global.LoadConfig(), *component, *lines, *follow); });

  auto* supervise = stack_cmd->add_subcommand("supervise", "run the supervisor in the foreground (used by up)");
  supervise->group("");  // hidden from --help
  supervise->callback([&global] {
    int code = stack::RunSupervisor(global.LoadConfig(), PipelineStatusJson);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace clickflow::cli
