#pragma once
// The offsets one run produced into Kafka, as text a shell script can keep between two steps
// (the Airflow DAG reads the high watermarks before and after `produce`, then hands the ranges
// to `ingest verify-load`): "<topic>/<partition>=<first>-<end>" per partition, space-separated,
// `end` excluded.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace clickflow {

struct OffsetRange {
  std::string topic;
  int32_t partition = 0;
  int64_t first = 0;
  int64_t end = 0;  // one past the last offset

  int64_t size() const { return end - first; }
  bool operator==(const OffsetRange&) const = default;
};

std::string FormatOffsetRanges(const std::vector<OffsetRange>& ranges);

// Throws Error naming the token that is not "<topic>/<partition>=<first>-<end>" with first <= end.
std::vector<OffsetRange> ParseOffsetRanges(std::string_view text);

// What was appended to `topic` between two readings: per partition of `now`, from where
// `before` ended (0 for a partition `before` does not name) to `now`'s end.
std::vector<OffsetRange> RangesSince(const std::vector<OffsetRange>& before, const std::vector<OffsetRange>& now);

// Every partition of `topic` from its low to its high watermark, as the broker reports them.
std::vector<OffsetRange> TopicOffsets(const std::string& bootstrap_servers, const std::string& topic);

}  // namespace clickflow
