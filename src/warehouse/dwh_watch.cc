#include "warehouse/dwh_watch.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "clickhouse/client.h"
#include "common/error.h"

namespace clickflow {

namespace {

using Clock = std::chrono::steady_clock;

// Sleeps up to `d`, waking early when asked to stop.
void SleepUnlessStopped(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = Clock::now() + d;
  while (!stop && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace

WatchSummary WatchWarehouse(const Config& config, const WatchOptions& options, const std::atomic<bool>& stop) {
  WatchSummary summary;
  ClickHouseClient client(config.clickhouse);
  bool dims_stale = true;  // build them once at start: a previous run may have stopped between
  auto dims_due = Clock::now();
  auto backoff = std::chrono::milliseconds(1000);
  spdlog::info("dwh watch: micro-builds every {} ms, dimensions at most every {} ms", options.interval.count(),
               options.dims_every.count());
  while (!stop) {
    ++summary.cycles;
    try {
      const FactBuildSummary facts = AppendFacts(client, config, options.build);
      if (!facts.days.empty()) {
        ++summary.fact_builds;
        dims_stale = true;
      }
      if (dims_stale && Clock::now() >= dims_due) {
        BuildDimUsers(client, config);
        BuildDimGeo(client, config);
        ++summary.dim_builds;
        dims_stale = false;
        dims_due = Clock::now() + options.dims_every;
      }
      backoff = std::chrono::milliseconds(1000);
      SleepUnlessStopped(options.interval, stop);
    } catch (const Error& e) {
      // ClickHouse restarting, a lock held too long: the next cycle redoes the same days.
      ++summary.errors;
      spdlog::warn("dwh watch: {}; retrying in {} ms", e.what(), backoff.count());
      SleepUnlessStopped(backoff, stop);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
    }
  }
  spdlog::info("dwh watch: stopped after {} cycles ({} fact builds, {} dimension builds, {} errors)", summary.cycles,
               summary.fact_builds, summary.dim_builds, summary.errors);
  return summary;
}

}  // namespace clickflow
