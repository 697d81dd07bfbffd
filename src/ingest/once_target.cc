#include "ingest/once_target.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace clickflow {

using std::chrono::milliseconds;

void OnceTarget::Read(kafka::Consumer& consumer, const std::vector<std::string>& topics,
                      const std::atomic<bool>& stop) {
  milliseconds backoff{500};
  while (true) {
    try {
      stop_offsets_ = consumer.ReadHighWatermarks(topics);
      return;
    } catch (const kafka::TopicMissing&) {
      throw;
    } catch (const Error& e) {
      if (stop) throw StopRequested();
      spdlog::warn("loader: {}; retrying in {} ms", e.what(), backoff.count());
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, milliseconds(5000));
  }
}

int64_t OnceTarget::StopAt(kafka::Consumer& consumer, const std::string& topic, int32_t partition) {
  auto it = stop_offsets_.find({topic, partition});
  if (it == stop_offsets_.end()) {
    it = stop_offsets_.emplace(kafka::PartitionKey{topic, partition}, consumer.HighWatermark(topic, partition)).first;
  }
  return it->second;
}

bool OnceTarget::GroupReached(kafka::Consumer& consumer, OffsetStore& offsets, const ClickHouseRetry& retry,
                              const std::vector<std::string>& topics, bool log_waiting) {
  std::map<kafka::PartitionKey, int64_t> loaded;
  for (const auto& topic : topics) {
    std::map<int32_t, int64_t> upto;
    retry.Run([&] { upto = offsets.LoadedUpTo(*FindTopicSchema(topic)); }, kInsertRetryBudget);
    for (const auto& [partition, at] : upto) loaded[{topic, partition}] = at;
  }
  std::vector<kafka::PartitionKey> keys;
  for (const auto& [key, stop] : stop_offsets_) keys.push_back(key);
  for (const auto& [key, committed] : consumer.Committed(keys)) {
    int64_t& at = loaded[key];
    at = std::max(at, committed);
  }
  bool done = true;
  for (const auto& [key, stop] : stop_offsets_) {
    const auto it = loaded.find(key);
    const int64_t at = it == loaded.end() ? 0 : it->second;
    if (at >= stop) continue;
    done = false;
    if (log_waiting) {
      spdlog::info("loader: waiting for {}[{}], owned by another group member: loaded to {} of {}", key.first,
                   key.second, at, stop);
    }
  }
  return done;
}

}  // namespace clickflow
