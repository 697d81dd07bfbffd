// `clickflow ingest verify-load --dir DIR --produced RANGES` and `clickflow ingest validate`: the
// checks the Airflow DAGs run after loading (init_data_pipeline's verify_data_load,
// streaming_to_clickhouse's validate_ingestion), one line per topic, exit 1 when a topic fails;
// `clickflow ingest offsets` records the offset ranges a run produced.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "clickhouse/client.h"
#include "ingest/load_verify.h"
#include "ingest/offset_ranges.h"

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

  auto* offsets = ingest->add_subcommand(
      "offsets", "print a topic's offset ranges (\"<topic>/<partition>=<first>-<end>\"), or what came since others");
  auto offsets_topic = std::make_shared<std::string>();
  auto since = std::make_shared<std::string>();
  offsets->add_option("--topic", *offsets_topic, "the topic")->required();
  offsets->add_option("--since", *since, "ranges printed before: print from where each of them ended");
  offsets->callback([&global, offsets_topic, since] {
    Config config = global.LoadConfig();
    std::vector<OffsetRange> now = TopicOffsets(config.kafka.bootstrap_servers, *offsets_topic);
    if (!since->empty()) now = RangesSince(ParseOffsetRanges(*since), now);
    std::cout << FormatOffsetRanges(now) << std::endl;
  });

  auto* verify = ingest->add_subcommand(
      "verify-load", "every offset this run produced from DIR/<topic>.jsonl is in staging or the dead letters once");
  auto dir = std::make_shared<std::string>();
  auto produced = std::make_shared<std::string>();
  verify->add_option("--dir", *dir, "folder holding the four <topic>.jsonl files that were loaded")->required();
  verify->add_option("--produced", *produced, "the offset ranges the run produced (`ingest offsets --since`)")
      ->required();
  verify->callback([&global, dir, produced] {
    Config config = global.LoadConfig();
    ClickHouseClient client(config.clickhouse);
    Report("verify_data_load", VerifyLoad(client, config.clickhouse.database, *dir, ParseOffsetRanges(*produced)));
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
