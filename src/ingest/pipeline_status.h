#pragma once
// What `clickflow stack status` shows about the data, next to the servers: how far the loader
// is behind each topic (Kafka's high watermarks against the offsets recorded in ClickHouse,
// docs/design.md#exactly-once) and how fresh the warehouse is. Never throws: an unreachable Kafka or
// ClickHouse is reported in `error`.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"

namespace clickflow {

struct TopicLag {
  std::string topic;
  int64_t end = 0;  // sum of the partitions' high watermarks
  int64_t lag = 0;  // messages in Kafka not yet in staging or the dead letters
};

struct PipelineStatus {
  std::vector<TopicLag> topics;
  int64_t facts = -1;                        // rows in fact_events
  std::optional<int64_t> newest_fact_age_s;  // now - newest event_timestamp in fact_events
  std::optional<int64_t> newest_load_age_s;  // now - newest _ingested_at in staging
  std::string error;                         // empty when everything answered
};

PipelineStatus ReadPipelineStatus(const Config& config);

// The same as the "pipeline" object of `stack status --json` and the supervisor's /status:
// topics [{topic, end_offset, lag}], facts, newest_fact_age_s, newest_load_age_s (null when
// there is none), error.
nlohmann::json PipelineStatusJson(const Config& config);

}  // namespace clickflow
