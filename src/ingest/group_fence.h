#pragma once
// The group coordinator as the loader's fence (docs/design.md#exactly-once, rule 5). ClickHouse
// takes any INSERT, so before each attempt the loader commits the batch's first offsets (all
// loaded already) synchronously, which the coordinator accepts only from a current member of
// the current generation. A stall (SIGSTOP, GC, swap) of more than a second forces a fresh
// check; a session expires only after kafka.session_timeout_ms (>= 6 s) of silence, so a member
// confirmed within the last second still owns its partitions when its INSERT leaves.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>

#include "ingest/staging_writer.h"
#include "kafka/consumer.h"

namespace clickflow {

class GroupFence : public InsertFence {
 public:
  void SetConsumer(kafka::Consumer* consumer) { consumer_ = consumer; }

  // A new batch is about to be inserted: what to commit when asked.
  void Arm(std::map<kafka::PartitionKey, int64_t> first_offsets);
  // A new assignment: this member owns partitions again, confirmed by the assignment itself.
  void Reset();
  // The group took the partitions away: no attempt in flight may insert again.
  void Lose();

  // Throws kafka::Fenced when the coordinator refuses the commit, or cannot be asked for 10 s
  // (not knowing is not owning: the batch is dropped and read again after a rejoin).
  void Check() override;

 private:
  static constexpr std::chrono::milliseconds kFreshFor{1000};
  std::mutex mutex_;
  kafka::Consumer* consumer_ = nullptr;
  std::map<kafka::PartitionKey, int64_t> first_offsets_;
  std::chrono::steady_clock::time_point confirmed_at_{};
  bool lost_ = false;
};

}  // namespace clickflow
