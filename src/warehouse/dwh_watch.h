#pragma once
// Streaming mode's warehouse micro-builds (`clickflow dwh watch`): every `interval`, bring the
// facts up to date with newly loaded staging rows (AppendFacts: new events appended, days with
// changed events patched; a no-op when nothing arrived), and the dimensions at most every
// `dims_every` once facts changed. Builds take the same lock as
// `dwh build`, so the build_dwh_layer DAG keeps working alongside. ClickHouse unreachable:
// logged, retried with backoff, never fatal.
#include <atomic>
#include <chrono>

#include "common/config.h"
#include "warehouse/dwh_builder.h"

namespace clickflow {

struct WatchOptions {
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds dims_every{60000};
  DwhOptions build;
};

struct WatchSummary {
  uint64_t cycles = 0;
  uint64_t fact_builds = 0;  // cycles that rebuilt at least one day
  uint64_t dim_builds = 0;
  uint64_t errors = 0;
};

// Runs until `stop` becomes true.
WatchSummary WatchWarehouse(const Config& config, const WatchOptions& options, const std::atomic<bool>& stop);

}  // namespace clickflow
