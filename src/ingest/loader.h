#pragma once
// `clickflow load`: Kafka -> ClickHouse staging, exactly once (docs/design.md#exactly-once).
//
// How exactly-once holds:
// - Resume point = what ClickHouse holds: max(_offset) per (topic, partition) of the staging
//   table (+1), never below the group's committed offset (committed only after an insert).
// - A batch is one INSERT per table with one _ingested_at: one part, all or nothing.
// - One batch is inserted while the next fills, never two at once: batches land in order, so
//   ClickHouse holds a prefix of each partition. If the one in flight fails, the next is dropped.
// - Dead letters are inserted before staging rows; on a replay, lines at or below the highest
//   dead-letter offset are not written again. So a crash between the two inserts repeats nothing.
// - Partition ownership comes from the consumer group: a --once run and a --follow service
//   split the partitions, and a revoked partition's batch is flushed (or dropped) inside the
//   revoke callback, before the rebalance completes and anyone else reads ClickHouse's offsets.
// - An insert whose answer is lost (timeout) is checked against ClickHouse before a retry.
//
// Where: kafka/consumer.h reads (group, rebalances, watermarks), loader.cc batches and flushes
// (LoaderSession), staging_writer.h inserts the batches, offset_store.h reads the resume points.
#include <atomic>
#include <string>
#include <vector>

#include "common/config.h"

namespace clickflow {

struct LoaderOptions {
  std::vector<std::string> topics;  // empty = the four platform topics
  bool follow = false;              // run until stopped; else stop at the watermarks seen at start
  std::string group_id = "clickflow-loader";
  bool serve_metrics = false;  // --follow: Prometheus /metrics on stack.metrics_port
  int lag_log_interval_s = 30;
};

struct LoaderSummary {
  uint64_t rows = 0;
  uint64_t dead_letters = 0;
  uint64_t batches = 0;
  int64_t lag = 0;              // messages behind the high watermarks at the end
  int partitions_assigned = 0;  // in the last assignment
  double seconds = 0;
};

// Runs until done (--once) or until `stop` becomes true (--follow). Throws Error on a fatal
// problem (missing tables, bad config); transient outages are retried with backoff.
LoaderSummary RunLoader(const Config& config, const LoaderOptions& options, const std::atomic<bool>& stop);

}  // namespace clickflow
