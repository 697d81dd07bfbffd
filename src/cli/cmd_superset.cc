// `clickflow superset import [--url URL] [--force]`: the dashboards of superset/assets/ into a
// running Superset through its assets API, the way `clickflow stack up` provisions its own
// (docker-compose's init service runs this against the superset container).
#include <iostream>

#include "cli/commands.h"
#include "stack/superset_home.h"

namespace clickflow::cli {

void RegisterSuperset(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("superset", "provision Superset's dashboards");
  cmd->require_subcommand(1);
  auto* import = cmd->add_subcommand(
      "import", "import superset/assets (database via the read-only ClickHouse user, datasets, charts, dashboards)");
  auto url = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  import->add_option("--url", *url, "Superset's base URL (default: the local stack's, stack.superset_port)");
  import->add_flag("--force", *force, "import even if this bundle was imported there already");
  import->callback([&global, url, force] {
    Config config = global.LoadConfig();
  const std::string target = url->empty() ? stack::SupersetLocalUrl(config) : *url;
  const bool imported = stack::SupersetHome(config).ImportAssets(target, *force);
  std::cout << (imported ? "imported " : "already imported (use --force to import again): ")
            << config.Resource("superset/assets").string() << " into " << target << "\n";
});
}  // namespace clickflow::cli

}  // namespace clickflow::cli
