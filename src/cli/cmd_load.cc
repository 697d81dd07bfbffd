// `clickflow load (--once | --follow)`: Kafka -> ClickHouse staging, exactly once.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/stop_signal.h"
#include "ingest/loader.h"

namespace clickflow::cli {

void RegisterLoad(CLI::App& app, GlobalOptions& global) {
  auto* load = app.add_subcommand("load", "load Kafka topics into the ClickHouse staging tables, exactly once");
  auto options = std::make_shared<LoaderOptions>();
  auto once = std::make_shared<bool>(false);
  auto no_metrics = std::make_shared<bool>(false);
  load->add_option("--topics", options->topics, "topics to load (default: all four)")->delimiter(',');
  auto* once_flag = load->add_flag("--once", *once, "load up to the high watermarks seen at start, then exit");
  auto* follow_flag = load->add_flag("--follow", options->follow, "keep loading until stopped (SIGTERM/SIGINT)");
  once_flag->excludes(follow_flag);
  load->add_option("--group", options->group_id, "consumer group that owns the partitions");
  load->add_flag("--no-metrics", *no_metrics, "--follow: do not serve /metrics");
  load->callback([&global, options, once, no_metrics] {
    if (!*once && !options->follow) throw CLI::ValidationError("load", "give --once or --follow");
    Config config = global.LoadConfig();
    options->serve_metrics = options->follow && !*no_metrics;
    LoaderSummary s = RunLoader(config, *options, StopOnSignals());
    std::cout << fmt::format(
        "loaded {} rows and {} dead letters in {} batches from {} partitions in {:.1f} s "
        "({:.0f} rows/s); lag {}\n",
        s.rows, s.dead_letters, s.batches, s.partitions_assigned, s.seconds,
        s.seconds > 0 ? (s.rows + s.dead_letters) / s.seconds : 0.0, s.lag);
  });
}

}  // namespace clickflow::cli
