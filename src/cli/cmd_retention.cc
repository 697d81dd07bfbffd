// `clickflow retention [--dry-run]`: drop staging and warehouse day partitions past their
// retention, and staging partitions past staging_keep_days already built into fact_events
// (see src/warehouse/retention.h for the rules and what is never dropped).
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "clickhouse/client.h"
#include "warehouse/retention.h"

namespace clickflow::cli {

void RegisterRetention(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("retention", "drop staging and warehouse partitions past their retention");
  auto dry_run = std::make_shared<bool>(false);
  auto no_clear = std::make_shared<bool>(false);
  cmd->add_flag("--dry-run", *dry_run, "print what would be dropped; drop nothing");
  cmd->add_flag("--no-clear-staging", *no_clear, "only the TTLs; keep staging younger than staging_ttl_days");
  cmd->callback([&global, dry_run, no_clear] {
    Config config = global.LoadConfig();
    ClickHouseClient client(config.clickhouse);
    RetentionOptions options;
    options.dry_run = *dry_run;
    options.clear_staging = !*no_clear;
    RetentionSummary s = RunRetention(client, config, options);
    for (const auto& a : s.dropped) {
      std::cout << (*dry_run ? "would drop " : "dropped ") << a.table << " " << a.partition << " (" << a.reason
                << ")\n";
    }
    for (const auto& a : s.kept) std::cout << "kept " << a.table << " " << a.partition << " (" << a.reason << ")\n";
    std::cout << fmt::format("retention: {} {} partition(s), kept {} old partition(s)\n",
                             *dry_run ? "would drop" : "dropped", s.dropped.size(), s.kept.size());
  });
}

}  // namespace clickflow::cli
