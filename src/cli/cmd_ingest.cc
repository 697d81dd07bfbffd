// `clickflow ingest verify-load --dir DIR` and `clickflow ingest validate`: the checks the
// Airflow DAGs run after loading (init_data_pipeline's verify_data_load, streaming_to_clickhouse's
// validate_ingestion). One line per topic; exit 1 when a topic fails.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "clickhouse/client.h"
#include "ingest/load_verify.h"

namespace clickflow::cli {
namespace {

// Prints "<check>: ok: ..." or "<check>: FAIL: ..." per topic; fails the command if one failed.
void Report(const std::string& check, const std::vector<TopicCheck>& results) {
  bool failed = false;
  for (const TopicCheck& r : results) {
    std::cout << check << (r.ok ? ": ok: " : ": FAIL: ") << r.message << "\n";
    failed = failed || !r.ok;
  }
  std::cout.flush();
  if (failed) throw CLI::RuntimeError(1);
}

}  // namespace

void RegisterIngest(CLI::App& app, GlobalOptions& global) {
  auto* ingest = app.add_subcommand("ingest", "check what the loader ingested");
  ingest->require_subcommand(1);

  auto* verify = ingest->add_subcommand(
      "verify-load", "every non-blank line of DIR/<topic>.jsonl is in staging or in the dead letters");
  auto dir = std::make_shared<std::string>();
  verify->add_option("--dir", *dir, "folder holding the four <topic>.jsonl files that were loaded")->required();
  verify->callback([&global, dir] {
    Config config = global.LoadConfig();
    ClickHouseClient client(config.clickhouse);
    Report("verify_data_load", VerifyLoad(client, config.clickhouse.database, *dir));
  });

  auto* validate =
      ingest->add_subcommand("validate", "each topic's dead-letter share over the last hour is at most 5%");
  validate->callback([&global] {
    Config config = global.LoadConfig();
    ClickHouseClient client(config.clickhouse);
    Report("validate_ingestion", ValidateIngestion(client, config.clickhouse.database));
  });
}

}  // namespace clickflow::cli
