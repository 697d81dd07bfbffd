// The shared stack of the integration suite, started once per ctest run:
//   stack_fixture up <config.yaml>    free loopback ports, a temp data dir, `clickflow stack up`
//   stack_fixture down <config.yaml>  `clickflow stack down`, then checks that no server
//                                     process is left and every port is free again; removes
//                                     the temp dir. Exit code non-zero on any failure.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "clickflow_source_dir.h"
#include "common/config.h"
#include "common/net.h"
#include "common/process.h"
#include "common/template.h"
#include "free_ports.h"
#include "stack/state.h"

namespace fs = std::filesystem;
using namespace clickflow;

namespace {

int RunClickflow(const fs::path& config, const std::vector<std::string>& args) {
  SpawnOptions s;
  s.argv = {CLICKFLOW_BINARY, "--config", config.string()};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.new_session = false;
  CommandResult r = RunCommand(s);
  std::cout << r.output;
  return r.exit_code;
}

int Up(const fs::path& config_file) {
  char pattern[] = "/tmp/clickflow-it-XXXXXX";
  if (!::mkdtemp(pattern)) {
    std::cerr << "mkdtemp failed\n";
    return 1;
  }
  fs::permissions(pattern, fs::perms(0755));  // service users must reach their folders

  Config c;
  c.data_dir = pattern;
  const char* deps = std::getenv("CLICKFLOW_STACK_DEPS_DIR");
  c.stack.deps_dir = deps ? deps : (fs::path(CLICKFLOW_SOURCE_DIR) / "var" / "deps").string();
  clickflow::testing::UseFreePorts(c);
  // Not the defaults: tests must use the configured logins, and the security test can look
  // for each password in logs and status output (a default like "clickhouse" is everywhere).
  const std::string suffix = RandomHex(4);
  c.clickhouse.password = "ch-pw-" + suffix;
  c.clickhouse.readonly_password = "ro-pw-" + suffix;
  c.stack.postgres_password = "pg-pw-" + suffix;
  c.stack.airflow_password = "af-pw-" + suffix;
  c.stack.superset_password = "ss-pw-" + suffix;
  WriteFile(config_file, ToYaml(c), fs::perms(0600));
  std::cout << "stack fixture: data dir " << pattern << ", config " << config_file << "\n";
  int code = RunClickflow(config_file, {"stack", "up"});
  if (code != 0) RunClickflow(config_file, {"stack", "logs", "-n", "40"});
  return code;
}

int Down(const fs::path& config_file) {
  Config c = LoadConfig(config_file.string());
  auto state = stack::ReadState(c.RunDir());
  int code = RunClickflow(config_file, {"stack", "down"});
  int failures = code != 0;
  if (state) {
    for (const auto& comp : state->components) {
      if (comp.pid > 0 && IsAlive(comp.pid)) {
        std::cerr << "left behind: " << comp.name << " pid " << comp.pid << "\n";
        ++failures;
      }
      for (int port : comp.ports) {
        if (PortAccepts("127.0.0.1", port)) {
          std::cerr << "port still open: " << port << " (" << comp.name << ")\n";
          ++failures;
        }
      }
    }
  } else {
    std::cerr << "no stack state found in " << c.RunDir() << "\n";
    ++failures;
  }
  if (failures == 0) {
    std::error_code ec;
    fs::remove_all(c.data_dir, ec);
    std::cout << "stack fixture: stopped cleanly, nothing left behind\n";
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: stack_fixture up|down <config.yaml>\n";
    return 2;
  }
  try {
    const std::string verb = argv[1];
    if (verb == "up") return Up(argv[2]);
    if (verb == "down") return Down(argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "stack_fixture: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: stack_fixture up|down <config.yaml>\n";
  return 2;
}
