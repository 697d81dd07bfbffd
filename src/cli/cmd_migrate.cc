// `clickflow migrate [--dry-run]`: create or update the ClickHouse schema from
// clickhouse/migrations/ (see src/clickhouse/migrations.h).
#include <iostream>

#include "cli/commands.h"
#include "clickhouse/client.h"
#include "clickhouse/migrations.h"

namespace clickflow::cli {

void RegisterMigrate(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("migrate", "create or update the ClickHouse schema");
  auto dry_run = std::make_shared<bool>(false);
  cmd->add_flag("--dry-run", *dry_run, "print the statements that would run; change nothing");
  cmd->callback([&global, dry_run] {
    Config config = global.LoadConfig();
    std::vector<Migration> migrations = LoadMigrations(config.Resource("clickhouse/migrations"));
    ClickHouseClient client(config.clickhouse);
    MigrateResult result = Migrate(client, config, migrations, MigrateOptions{*dry_run});
    for (const AppliedMigration& m : result.applied) {
      if (*dry_run) {
        std::cout << "-- would apply " << m.name << "\n";
        for (const std::string& statement : m.statements) std::cout << statement << ";\n\n";
      } else {
        std::cout << "applied " << m.name << " (" << m.statements.size() << " statements)\n";
      }
    }
    if (result.applied.empty()) {
      std::cout << "schema up to date (" << result.total << " migrations)\n";
    } else if (*dry_run) {
      std::cout << "-- " << result.applied.size() << " of " << result.total << " migrations pending\n";
    } else {
      std::cout << "schema up to date (" << result.total << " migrations, " << result.applied.size()
                << " applied now)\n";
    }
  });
}

}  // namespace clickflow::cli
