#include "kafka/consumer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "kafka/client_conf.h"

namespace clickflow::kafka {

PolledMessages::PolledMessages(Consumer& consumer)
    : count_(std::max<ssize_t>(0, rd_kafka_consume_batch_queue(consumer.queue_, 100, messages_, kMax))) {}

PolledMessages::~PolledMessages() {
  for (ssize_t i = 0; i < count_; ++i) rd_kafka_message_destroy(messages_[i]);
}

Consumer::Consumer(const ConsumerOptions& options, RebalanceListener& listener) : listener_(listener) {
  ClientConf conf("consumer");
  auto set = [&conf](const std::string& key, const std::string& value) { conf.Set(key, value); };
  set("bootstrap.servers", options.bootstrap_servers);
  set("group.id", options.group_id);
  set("client.id", options.client_id);
  // The listener decides where partitions start; committed offsets are for monitoring and a floor.
  set("enable.auto.commit", "false");
  set("enable.auto.offset.store", "false");
  set("auto.offset.reset", "earliest");
  set("enable.partition.eof", "true");
  set("max.poll.interval.ms", "300000");
  set("session.timeout.ms", std::to_string(options.session_timeout_ms));
  set("heartbeat.interval.ms", std::to_string(std::min(3000, options.session_timeout_ms / 3)));
  set("log_level", "4");
  // Up to 8 MB per partition per fetch (librdkafka's default is 1 MB), 100 MB per request: with
  // 1 MB a backlog is read slower than the loader encodes it (bench/loader: about half the rate).
  // The price is memory while a backlog is read (peak RSS ~640 MB at 12 partitions), not while
  // caught up.
  set("max.partition.fetch.bytes", "8388608");
  set("fetch.max.bytes", "104857600");
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::RebalanceCallback);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rk_ = conf.NewClient(RD_KAFKA_CONSUMER);
  rd_kafka_poll_set_consumer(rk_);
  queue_ = rd_kafka_queue_get_consumer(rk_);
}

Consumer::~Consumer() {
  Close();
  rd_kafka_destroy(rk_);
  spdlog::debug("kafka: consumer destroyed");
}

void Consumer::Close() {
  if (!queue_) return;
  rd_kafka_queue_destroy(queue_);  // our reference; close serves the consumer queue itself
  queue_ = nullptr;
  spdlog::debug("kafka: closing the consumer");
  rd_kafka_consumer_close(rk_);
  spdlog::debug("kafka: consumer closed");
}

void Consumer::Subscribe(const std::vector<std::string>& topics) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t rc = rd_kafka_subscribe(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (rc) throw Error(std::string("cannot subscribe: ") + rd_kafka_err2str(rc));
}

void Consumer::RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                 void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  // Exceptions must not cross librdkafka's C frames: keep the first and rethrow after the poll.
  try {
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->Assign(partitions);
    } else {
      self->Revoke();
    }
  } catch (...) {
    if (!self->rebalance_error_) self->rebalance_error_ = std::current_exception();
    rd_kafka_assign(rk, nullptr);
    self->listener_.OnRebalanceFailed();
  }
}

void Consumer::Assign(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<AssignedPartition> assigned;
  assigned.reserve(partitions->cnt);
  rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_copy(partitions);
  const bool have_committed = rd_kafka_committed(rk_, committed, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& elem = partitions->elems[i];
    assigned.push_back({elem.topic, elem.partition, have_committed ? committed->elems[i].offset : -1, 0});
  }
  rd_kafka_topic_partition_list_destroy(committed);
  listener_.OnAssign(assigned);
  for (int i = 0; i < partitions->cnt; ++i) partitions->elems[i].offset = assigned[i].start;
  rd_kafka_resp_err_t rc = rd_kafka_assign(rk_, partitions);
  if (rc) throw Error(std::string("cannot assign partitions: ") + rd_kafka_err2str(rc));
}

void Consumer::Revoke() {
  listener_.OnRevoke();
  rd_kafka_assign(rk_, nullptr);
}

void Consumer::RethrowRebalanceError() {
  if (rebalance_error_) {
    auto e = rebalance_error_;
    rebalance_error_ = nullptr;
    std::rethrow_exception(e);
  }
}

namespace {

rd_kafka_topic_partition_list_t* OffsetList(const std::map<PartitionKey, int64_t>& next_offsets) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size()));
  for (const auto& [key, next] : next_offsets) {
    rd_kafka_topic_partition_list_add(list, key.first.c_str(), key.second)->offset = next;
  }
  return list;
}

// Answers that mean "not a member of the current generation": the coordinator's, and
// librdkafka's own when it already knows the assignment is gone.
bool MeansFenced(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:  // only when the group rebalanced without us
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
    case RD_KAFKA_RESP_ERR__STATE:
      return true;
    default:
      return false;
  }
}

}  // namespace

void Consumer::Commit(const std::map<PartitionKey, int64_t>& next_offsets) {
  rd_kafka_topic_partition_list_t* list = OffsetList(next_offsets);
  rd_kafka_commit(rk_, list, 1);
  rd_kafka_topic_partition_list_destroy(list);
}

void Consumer::CommitSync(const std::map<PartitionKey, int64_t>& next_offsets) {
  rd_kafka_topic_partition_list_t* list = OffsetList(next_offsets);
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list, 0);
  for (int i = 0; !err && i < list->cnt; ++i) err = list->elems[i].err;
  rd_kafka_topic_partition_list_destroy(list);
  if (!err) return;
  const std::string text = std::string("offset commit refused: ") + rd_kafka_err2str(err);
  if (MeansFenced(err)) throw Fenced(text);
  throw Error(text);
}

std::map<PartitionKey, int64_t> Consumer::Committed(const std::vector<PartitionKey>& keys) {
  std::map<PartitionKey, int64_t> out;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(keys.size()));
  for (const auto& [topic, partition] : keys) rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  if (rd_kafka_committed(rk_, list, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < list->cnt; ++i) out[{list->elems[i].topic, list->elems[i].partition}] = list->elems[i].offset;
  }
  rd_kafka_topic_partition_list_destroy(list);
  return out;
}

int64_t Consumer::HighWatermark(const std::string& topic, int32_t partition) {
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t rc = rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &low, &high, 10'000);
  if (rc) throw Error(fmt::format("cannot read watermarks of {}[{}]: {}", topic, partition, rd_kafka_err2str(rc)));
  return high;
}

std::map<PartitionKey, int64_t> Consumer::ReadHighWatermarks(const std::vector<std::string>& topics) {
  std::map<PartitionKey, int64_t> out;
  for (const auto& topic : topics) {
    rd_kafka_topic_t* handle = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t rc = rd_kafka_metadata(rk_, 0, handle, &md, 10'000);
    rd_kafka_topic_destroy(handle);
    if (rc) throw Error(fmt::format("cannot read the partitions of {}: {}", topic, rd_kafka_err2str(rc)));
    std::vector<int32_t> partitions;
    for (int t = 0; t < md->topic_cnt; ++t) {
      if (md->topics[t].err) {
        rd_kafka_resp_err_t err = md->topics[t].err;
        rd_kafka_metadata_destroy(md);
        if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
          throw TopicMissing("topic " + topic + " does not exist (run `clickflow topics create`)");
        }
        throw Error(fmt::format("cannot read the partitions of {}: {}", topic, rd_kafka_err2str(err)));
      }
      for (int p = 0; p < md->topics[t].partition_cnt; ++p) partitions.push_back(md->topics[t].partitions[p].id);
    }
    rd_kafka_metadata_destroy(md);
    for (int32_t p : partitions) out[{topic, p}] = HighWatermark(topic, p);
  }
  return out;
}

int64_t Consumer::CachedLag(const std::string& topic, int32_t partition, int64_t next_offset) {
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t rc = rd_kafka_get_watermark_offsets(rk_, topic.c_str(), partition, &low, &high);
  return rc == RD_KAFKA_RESP_ERR_NO_ERROR && high > next_offset ? high - next_offset : 0;
}

}  // namespace clickflow::kafka
