// `clickflow config show|check`: the effective configuration after file and environment.
#include <iostream>

#include "cli/commands.h"

namespace clickflow::cli {

void RegisterConfig(CLI::App& app, GlobalOptions& global) {
  auto* config = app.add_subcommand("config", "show or check the effective configuration");
  config->require_subcommand(1);
  config->add_subcommand("show", "print the configuration as YAML (file + environment)")->callback([&global] {
    std::cout << ToYaml(global.LoadConfig());
  });
  config->add_subcommand("check", "validate the configuration and exit")->callback([&global] {
    Config c = global.LoadConfig();
    std::cout << "config OK (" << c.source << ")\n";
  });
}

}  // namespace clickflow::cli
