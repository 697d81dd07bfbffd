// `clickflow temp-config DATA_DIR [SETTING...]`: prints a clickflow.yaml for a stack of its own:
// its data in DATA_DIR, every listener on a free loopback port, the deps of
// $CLICKFLOW_STACK_DEPS_DIR (else <repo>/var/deps), and the given `stack:` settings on top. The
// soak and the benchmarks start their stacks from it, so they run beside a `./run.sh` stack.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "clickflow_source_dir.h"
#include "common/config.h"
#include "stack/free_ports.h"

namespace clickflow::cli {

void RegisterTempConfig(CLI::App& app, GlobalOptions& /*global*/) {
  auto* cmd = app.add_subcommand(
      "temp-config", "print a clickflow.yaml for a stack of its own: data in DATA_DIR, listeners on free ports");
  auto data_dir = std::make_shared<std::string>();
  auto settings = std::make_shared<std::vector<std::string>>();
  cmd->add_option("data_dir", *data_dir, "the stack's data folder")->required();
  cmd->add_option("settings", *settings, "`stack:` settings, e.g. \"streaming: true\" \"superset: false\"");
  cmd->footer("Example: clickflow temp-config /tmp/x/var \"streaming: true\" \"superset: false\" > clickflow.yaml");
  cmd->callback([data_dir, settings] {
    std::string yaml;
    for (const std::string& setting : *settings) yaml += (yaml.empty() ? "stack:\n  " : "  ") + setting + "\n";
    Config config = ParseConfig(yaml, "temp-config settings", std::filesystem::current_path());
    config.data_dir = std::filesystem::absolute(*data_dir).lexically_normal();
    const char* deps = std::getenv("CLICKFLOW_STACK_DEPS_DIR");
    // The deps scripts/install-deps.sh fills for this source tree, as a `./run.sh` stack uses.
    config.stack.deps_dir = deps && *deps ? std::string(deps) : std::string(CLICKFLOW_SOURCE_DIR) + "/var/deps";
    UseFreePorts(config);
    std::cout << ToYaml(config);
  });
}

}  // namespace clickflow::cli
