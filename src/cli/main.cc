// clickflow: one binary for the data plane and the local stack of the platform.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "clickflow_version.h"
#include "common/error.h"
#include "common/log.h"

namespace {

constexpr const char* kExamples = R"(
Examples:
  clickflow stack up                          start Kafka, ClickHouse and PostgreSQL locally
  clickflow migrate                           create or update the analytics schema
  clickflow topics create                     create the four topics (3 partitions, 7 days)
  clickflow generate --out /tmp/ev --events 100000 --seed 7
  clickflow produce --dir data/samples        send the four JSONL files to their topics
  clickflow load --once                       Kafka -> ClickHouse staging, exactly once
  clickflow dwh build                         rebuild the warehouse days touched by new data
  clickflow quality run                       run the data-quality checks
  clickflow sql "SELECT count() FROM analytics.fact_events"
  clickflow --config my.yaml stack status

Configuration: --config FILE, else $CLICKFLOW_CONFIG, else ./clickflow.yaml; every key can be
overridden with CLICKFLOW_<SECTION>_<KEY>, e.g. CLICKFLOW_CLICKHOUSE_URL=http://host:8123.
)";

}  // namespace

int main(int argc, char** argv) {
  namespace cli = clickflow::cli;
  CLI::App app{"clickflow: web-analytics data platform (Kafka -> ClickHouse -> Superset)"};
  app.footer(kExamples);
  app.set_version_flag("--version", std::string("clickflow ") + CLICKFLOW_VERSION);
  app.require_subcommand(1);

  cli::GlobalOptions global;
  app.add_option("-c,--config", global.config_path, "configuration file (YAML)");
  app.add_flag("-v,--verbose", global.verbose, "debug logging");
  app.parse_complete_callback([&global] { clickflow::InitLogging(global.verbose); });

  cli::RegisterTopics(app, global);
  cli::RegisterProduce(app, global);
  cli::RegisterLoad(app, global);
  cli::RegisterIngest(app, global);
  cli::RegisterDwh(app, global);
  cli::RegisterRetention(app, global);
  cli::RegisterStack(app, global);
  cli::RegisterConfig(app, global);
  cli::RegisterTempConfig(app, global);
  cli::RegisterGenerate(app, global);
  cli::RegisterMigrate(app, global);
  cli::RegisterSql(app, global);
  cli::RegisterQuality(app, global);
  cli::RegisterSuperset(app, global);
  cli::RegisterBackup(app, global);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const clickflow::Error& e) {
    std::cerr << "clickflow: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "clickflow: unexpected error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
