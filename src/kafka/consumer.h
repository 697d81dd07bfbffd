#pragma once
// A group consumer whose offsets live elsewhere: the group assigns the partitions, and whoever
// is handed them (a RebalanceListener) says where each one starts. Nothing is committed
// automatically; Commit records a position for monitoring only. Messages come in batches of up
// to 1,024, each a view on librdkafka's own buffer (no copy).
#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace clickflow::kafka {

using PartitionKey = std::pair<std::string, int32_t>;

class TopicMissing : public Error {
 public:
  using Error::Error;
};

// The group no longer counts this member as the owner of its partitions (its session expired
// while it was stalled, or a rebalance moved on without it): another member may load them now.
class Fenced : public Error {
 public:
  using Error::Error;
};

struct ConsumerOptions {
  std::string bootstrap_servers;
  std::string group_id;
  std::string client_id;
  // How long the group waits for a silent member before handing its partitions to another.
  int session_timeout_ms = 45'000;
};

// A partition handed to this member. `committed` is the group's committed offset (negative
// when there is none); the listener sets `start`, the first offset to read.
struct AssignedPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t committed = -1;
  int64_t start = 0;
};

// Called from inside Consumer's polls and Close, on the polling thread. An exception thrown
// here unassigns everything, calls OnRebalanceFailed and is rethrown by RethrowRebalanceError.
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  virtual void OnAssign(std::vector<AssignedPartition>& partitions) = 0;
  // Before the revoke completes: nobody else owns the partitions until this returns.
  virtual void OnRevoke() = 0;
  virtual void OnRebalanceFailed() = 0;
};

// One fetched message (or a partition event such as end of partition), valid while the
// PolledMessages that holds it lives.
class Message {
 public:
  explicit Message(const rd_kafka_message_t& message) : m_(message) {}
  bool failed() const { return m_.err != RD_KAFKA_RESP_ERR_NO_ERROR; }
  bool partition_eof() const { return m_.err == RD_KAFKA_RESP_ERR__PARTITION_EOF; }
  std::string ErrorText() const { return rd_kafka_message_errstr(&m_); }
  // The same pointer for every message of a topic: a cheap identity, compared before the name.
  const rd_kafka_topic_t* topic_handle() const { return m_.rkt; }
  std::string TopicName() const { return m_.rkt ? rd_kafka_topic_name(m_.rkt) : ""; }
  int32_t partition() const { return m_.partition; }
  int64_t offset() const { return m_.offset; }
  std::string_view payload() const { return {static_cast<const char*>(m_.payload), m_.payload ? m_.len : 0}; }

 private:
  const rd_kafka_message_t& m_;
};

class Consumer;

// Up to kMax messages from the consumer queue in one call (one clock read and queue lock per
// batch, not per message), destroyed with this object. The call also serves rebalance
// callbacks: messages of a partition revoked meanwhile are still in the batch.
class PolledMessages {
 public:
  static constexpr size_t kMax = 1024;
  explicit PolledMessages(Consumer& consumer);
  ~PolledMessages();
  PolledMessages(const PolledMessages&) = delete;
  PolledMessages& operator=(const PolledMessages&) = delete;

  size_t size() const { return static_cast<size_t>(count_); }
  Message operator[](size_t i) const { return Message(*messages_[i]); }

 private:
  rd_kafka_message_t* messages_[kMax];
  ssize_t count_;
};

class Consumer {
 public:
  Consumer(const ConsumerOptions& options, RebalanceListener& listener);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void Subscribe(const std::vector<std::string>& topics);

  // Throws what a rebalance callback threw since the last call, once.
  void RethrowRebalanceError();

  // Leaves the group: the listener's OnRevoke runs for what this member owns. Idempotent.
  void Close();

  // Records `next_offsets` as the group's committed offsets, asynchronously.
  void Commit(const std::map<PartitionKey, int64_t>& next_offsets);

  // Records `next_offsets` and waits for the group coordinator's answer: Kafka's own fencing.
  // The coordinator accepts a commit only from a current member of the current generation, so
  // this throws Fenced when the group has moved on without us, Error when the coordinator could
  // not be asked (the caller cannot tell either way). Thread-safe.
  void CommitSync(const std::map<PartitionKey, int64_t>& next_offsets);

  // True inside OnRevoke when the partitions were taken away (session expired) rather than
  // handed back in an orderly rebalance: whatever this member still holds must not be written.
  bool AssignmentLost() const { return rd_kafka_assignment_lost(rk_) != 0; }

  // The group's committed offset of each of `keys` (negative when none); empty when the broker
  // does not answer within 10 s.
  std::map<PartitionKey, int64_t> Committed(const std::vector<PartitionKey>& keys);

  // Asks the broker (up to 10 s); throws Error.
  int64_t HighWatermark(const std::string& topic, int32_t partition);

  // The high watermark of every partition of `topics`, from the broker. Throws TopicMissing
  // for a topic that does not exist, Error for anything else.
  std::map<PartitionKey, int64_t> ReadHighWatermarks(const std::vector<std::string>& topics);

  // Messages between `next_offset` and the high watermark the last fetch response of the
  // partition reported (no broker round trip); 0 when unknown.
  int64_t CachedLag(const std::string& topic, int32_t partition, int64_t next_offset);

 private:
  friend class PolledMessages;
  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                void* opaque);
  void Assign(rd_kafka_topic_partition_list_t* partitions);
  void Revoke();

  RebalanceListener& listener_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer queue: messages and rebalance events
  std::exception_ptr rebalance_error_;
};

}  // namespace clickflow::kafka
