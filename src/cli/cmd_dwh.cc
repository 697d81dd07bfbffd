// `clickflow dwh build|facts|users|geo|optimize|verify|clear-staging`: the warehouse layer.
// `dwh build` runs every step in order; the others run one step alone, as the tasks of the
// build_dwh_layer DAG do (build_fact_events, update_dim_users, update_dim_geo,
// optimize_tables, verify_dwh_layer, clear_staging_old_data).
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/stop_signal.h"
#include "clickhouse/client.h"
#include "common/error.h"
#include "warehouse/dwh_builder.h"
#include "warehouse/dwh_watch.h"
#include "warehouse/retention.h"

namespace clickflow::cli {
namespace {

std::string DescribeDays(const std::vector<dwh::Day>& days) {
  if (days.empty()) return "no days";
  if (days.size() <= 6) {
    std::string out;
    for (dwh::Day d : days) out += (out.empty() ? "" : ", ") + dwh::DayToIso(d);
    return out;
  }
  return fmt::format("{} .. {}", dwh::DayToIso(days.front()), dwh::DayToIso(days.back()));
}

void RunFacts(ClickHouseClient& client, const Config& config, const DwhOptions& options, bool append) {
  FactBuildSummary s = append ? AppendFacts(client, config, options) : BuildFacts(client, config, options);
  for (const std::string& dim : s.dims_rebuilt) std::cout << "facts: " << dim << " was out of step: rebuilt\n";
  if (append) {
    std::cout << fmt::format("facts: appended to {} day(s), rebuilt {} day(s) whole ({}): {} rows in {:.1f} s\n",
                             s.appended.size(), s.days.size() - s.appended.size(), DescribeDays(s.days), s.rows,
                             s.seconds);
    return;
  }
  std::cout << fmt::format("facts: rebuilt {} day(s) ({}) in {} batch(es): {} rows in {:.1f} s\n", s.days.size(),
                           DescribeDays(s.days), s.batches, s.rows, s.seconds);
}

void RunDim(const DimBuildSummary& s) {
  std::cout << fmt::format("{}: rebuilt: {} rows in {:.1f} s\n", s.table, s.rows, s.seconds);
}

void RunOptimize(ClickHouseClient& client, const Config& config) {
  OptimizeSummary s = OptimizeWarehouse(client, config);
  std::cout << fmt::format("optimize: merged {} partition(s) in {:.1f} s\n", s.optimized.size(), s.seconds);
}

void RunVerify(ClickHouseClient& client, const Config& config) {
  std::vector<std::string> problems = VerifyWarehouse(client, config);
  if (problems.empty()) {
    std::cout << "verify: ok (no duplicate event_id; aggregates and dimensions match fact_events)\n";
    return;
  }
  for (const std::string& p : problems) std::cout << "verify: FAIL: " << p << "\n";
  throw Error(fmt::format("warehouse verification failed: {} problem(s)", problems.size()));
}

// Options of `dwh build` and `dwh facts`.
struct BuildOptions {
  DwhOptions dwh;
  bool append = false;
};

void RunSteps(const Config& config, const std::string& step, const BuildOptions& options) {
  ClickHouseClient client(config.clickhouse);
  const bool all = step == "all";
  if (all || step == "facts") RunFacts(client, config, options.dwh, options.append);
  if (all || step == "users") RunDim(BuildDimUsers(client, config));
  if (all || step == "geo") RunDim(BuildDimGeo(client, config));
  if (all || step == "optimize") RunOptimize(client, config);
  if (all || step == "verify") RunVerify(client, config);
}

void AddBuildOptions(CLI::App* cmd, BuildOptions& build) {
  DwhOptions& options = build.dwh;
  cmd->add_flag("--full", options.full, "rebuild every event day in staging, not only the touched ones");
  cmd->add_flag("--append", build.append,
                "as `dwh watch` does: append new events, rebuild only days whose existing events changed");
  cmd->add_option("--append-grace-seconds", options.append_grace_seconds,
                  "--append: how long an event missing its location, device or geo row waits for it")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--overlap-seconds", options.overlap_seconds,
                  "also treat rows ingested this long before the last watermark as new")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch-rows", options.batch_rows,
                  "browser rows per INSERT: whole days up to it, a larger day (or append delta) in "
                  "event_id buckets of about this size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

}  // namespace

void RegisterDwh(CLI::App& app, GlobalOptions& global) {
  auto* dwh = app.add_subcommand("dwh", "build and check the warehouse layer (facts, aggregates, dimensions)");
  dwh->require_subcommand(1);
  auto options = std::make_shared<BuildOptions>();
  auto step = std::make_shared<std::string>("all");

  auto* build = dwh->add_subcommand("build", "rebuild the days touched by new staging rows, then the dimensions");
  build->add_option("--step", *step, "run one step only")
      ->check(CLI::IsMember({"all", "facts", "users", "geo", "optimize", "verify"}));
  AddBuildOptions(build, *options);
  build->callback([&global, options, step] { RunSteps(global.LoadConfig(), *step, *options); });

  auto watch = std::make_shared<WatchOptions>();
  auto* watch_cmd = dwh->add_subcommand(
      "watch", "streaming mode: bring the facts up to date every few seconds until stopped (SIGTERM/SIGINT)");
  auto interval_ms = std::make_shared<int>(5000);
  auto dims_every_ms = std::make_shared<int>(60000);
  watch_cmd->add_option("--interval-ms", *interval_ms, "pause between micro-builds")
      ->capture_default_str()
      ->check(CLI::Range(100, 3'600'000));
  watch_cmd->add_option("--dims-every-ms", *dims_every_ms, "rebuild dim_users and dim_geo at most this often")
      ->capture_default_str()
      ->check(CLI::Range(0, 86'400'000));
  watch_cmd
      ->add_option("--overlap-seconds", watch->build.overlap_seconds,
                   "also treat rows ingested this long before the last watermark as new")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  watch_cmd->callback([&global, watch, interval_ms, dims_every_ms] {
    watch->interval = std::chrono::milliseconds(*interval_ms);
    watch->dims_every = std::chrono::milliseconds(*dims_every_ms);
    WatchSummary s = WatchWarehouse(global.LoadConfig(), *watch, StopOnSignals());
    std::cout << fmt::format("dwh watch: {} cycles, {} fact builds, {} dimension builds, {} errors\n", s.cycles,
                             s.fact_builds, s.dim_builds, s.errors);
  });

  auto* facts = dwh->add_subcommand("facts", "rebuild fact_events and the aggregates for the touched days");
  AddBuildOptions(facts, *options);
  facts->callback([&global, options] { RunSteps(global.LoadConfig(), "facts", *options); });

  struct Single {
    const char* name;
    const char* help;
  };
  for (Single s :
       {Single{"users", "rebuild dim_users from fact_events"}, Single{"geo", "rebuild dim_geo from fact_events"},
        Single{"optimize", "merge the aggregate and dimension partitions (FINAL)"},
        Single{"verify", "check the warehouse; exit 1 naming each inconsistency"}}) {
    std::string name = s.name;
    dwh->add_subcommand(name, s.help)->callback([&global, options, name] {
      RunSteps(global.LoadConfig(), name, *options);
    });
  }

  auto* clear = dwh->add_subcommand(
      "clear-staging", "drop staging partitions older than staging_keep_days whose rows are in fact_events");
  auto dry_run = std::make_shared<bool>(false);
  clear->add_flag("--dry-run", *dry_run, "print what would be dropped; drop nothing");
  clear->callback([&global, dry_run] {
    Config config = global.LoadConfig();
    ClickHouseClient client(config.clickhouse);
    RetentionOptions r;
    r.dry_run = *dry_run;
    r.ttl = false;
    RetentionSummary s = RunRetention(client, config, r);
    for (const auto& a : s.dropped) {
      std::cout << (*dry_run ? "would drop " : "dropped ") << a.table << " " << a.partition << " (" << a.reason
                << ")\n";
    }
    std::cout << fmt::format("clear-staging: {} {} partition(s), kept {}\n", *dry_run ? "would drop" : "dropped",
                             s.dropped.size(), s.kept.size());
  });
}

}  // namespace clickflow::cli
