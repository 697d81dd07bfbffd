#pragma once
// A `load --once` run's finish line: the high watermark of every partition of its topics, read
// before it joins the group, and whether the whole group (whoever owned each partition) has
// loaded up to it without a hole (OffsetStore::LoadedUpTo).
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ingest/offset_store.h"
#include "ingest/staging_writer.h"
#include "kafka/consumer.h"

namespace clickflow {

class OnceTarget {
 public:
  bool empty() const { return stop_offsets_.empty(); }

  // Reads the watermarks, retrying while Kafka is unreachable; StopRequested when `stop` is set.
  void Read(kafka::Consumer& consumer, const std::vector<std::string>& topics, const std::atomic<bool>& stop);

  // Where a partition's run ends (exclusive); one added since the start is asked from the broker.
  int64_t StopAt(kafka::Consumer& consumer, const std::string& topic, int32_t partition);

  // True when every partition is loaded up to its stop offset, never counting below the group's
  // committed offset (committed only after a whole batch landed). With `log_waiting`, names the
  // partitions still waited for.
  bool GroupReached(kafka::Consumer& consumer, OffsetStore& offsets, const ClickHouseRetry& retry,
                    const std::vector<std::string>& topics, bool log_waiting);

 private:
  std::map<kafka::PartitionKey, int64_t> stop_offsets_;
};

}  // namespace clickflow
