#include "ingest/loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <future>
#include <memory>
#include <thread>

#include "clickhouse/client.h"
#include "common/metrics_server.h"
#include "ingest/group_fence.h"
#include "ingest/offset_store.h"
#include "ingest/once_target.h"
#include "ingest/row_encoder.h"
#include "ingest/staging_batch.h"
#include "ingest/staging_writer.h"
#include "kafka/consumer.h"

namespace clickflow {
namespace {

using Clock = std::chrono::steady_clock;
using kafka::PartitionKey;
using std::chrono::milliseconds;

struct PartitionState {
  int64_t next_offset = 0;                // the next offset to load
  int64_t dead_letters_loaded_upto = -1;  // replayed lines up to here already have their dead letter
  int64_t stop_at = -1;                   // --once: the high watermark at assignment (exclusive)
  bool done = false;
};

// What Handle needs per (topic, partition), found once rather than through string-keyed maps
// for every message (those lookups and the topic name's copy would be a tenth of the profile).
struct Slot {
  const rd_kafka_topic_t* topic_handle = nullptr;
  int32_t partition = -1;
  const std::string* topic = nullptr;  // the key in owned_
  PartitionState* state = nullptr;
  const TopicSchema* schema = nullptr;
  TableRows* rows = nullptr;      // batch_.staging[topic]: entries outlive ResetBatch, which only empties them
  uint64_t batch_generation = 0;  // next_offset below points into this batch's map
  int64_t* batch_next_offset = nullptr;
};

// One consumer group member's run: the consumer hands it partitions, it batches their lines
// and flushes the batches to ClickHouse. Partitions start where ClickHouse says they are loaded.
class LoaderSession : public kafka::RebalanceListener {
 public:
  LoaderSession(const Config& config, const LoaderOptions& options, const std::atomic<bool>& stop,
                LoaderMetrics& metrics, LoaderSummary& summary)
      : config_(config),
        options_(options),
        stop_(stop),
        metrics_(metrics),
        summary_(summary),
        retry_(stop, closing_),
        client_(config.clickhouse, ClickHouseTimeouts{milliseconds(5000), milliseconds(30'000)}),
        offsets_(client_, config.clickhouse.database),
        writer_(config, retry_, fence_, metrics) {
    for (const auto& name : options.topics) {
      if (!FindTopicSchema(name)) throw Error("unknown topic '" + name + "' (expected one of the four event topics)");
    }
    consumer_ = std::make_unique<kafka::Consumer>(
        kafka::ConsumerOptions{config.kafka.bootstrap_servers, options.group_id,
                               options.follow ? "clickflow-load-follow" : "clickflow-load-once",
                               config.kafka.session_timeout_ms},
        *this);
    fence_.SetConsumer(consumer_.get());
  }

  ~LoaderSession() override {
    // Leaving the group revokes our partitions; OnRevoke flushes or drops the batch.
    closing_ = true;
    consumer_->Close();
  }

  // Returns true when a --once run has reached its watermarks.
  bool Run() {
    Preflight();
    consumer_->Subscribe(Topics());
    if (!options_.follow && once_target_.empty()) once_target_.Read(*consumer_, Topics(), stop_);
    auto next_lag_log = Clock::now() + std::chrono::seconds(options_.lag_log_interval_s);
    while (!stop_) {
      PollAndBatch();
      FinishFlushIfDone();
      const auto now = Clock::now();
      if (!batch_.Empty() && now - batch_.opened >= milliseconds(config_.pipeline.flush_interval_ms)) {
        StartFlush(kInsertRetryBudget);
      }
      if (!options_.follow && assigned_ && AllDone() && OnceRunComplete(now)) return true;
      if (options_.follow && now >= next_lag_log) {
        next_lag_log = now + std::chrono::seconds(options_.lag_log_interval_s);
        metrics_.lag = CurrentLag();
        spdlog::info("loader: {} partitions, lag {} messages, {} rows and {} dead letters loaded", owned_.size(),
                     metrics_.lag.load(), metrics_.rows.load(), metrics_.dead_letters.load());
      }
    }
    Flush(kRevokeRetryBudget);  // stopping: what is read is consistent, so land it if we can
    return false;
  }

 private:
  std::vector<std::string> Topics() const { return options_.topics.empty() ? TopicNames() : options_.topics; }

  // Fails early and clearly when the schema is missing; waits while ClickHouse is down.
  void Preflight() {
    for (const auto& topic : Topics()) {
      retry_.Run([&] { offsets_.Read(*FindTopicSchema(topic)); }, milliseconds::max());
    }
  }

  void PollAndBatch() {
    const kafka::PolledMessages polled(*consumer_);
    consumer_->RethrowRebalanceError();
    for (size_t i = 0; i < polled.size(); ++i) {
      Handle(polled[i]);
      if (BatchFull() || batch_.total_dead_letters >= static_cast<size_t>(config_.pipeline.batch_size)) {
        StartFlush(kInsertRetryBudget);
      }
    }
  }

  // --once, our partitions done: lands the batch. The run is done only when every partition of
  // the topics is loaded up to the start watermarks: other members of the group (a --follow
  // service, or a killed run whose session has not expired yet) may own the rest.
  bool OnceRunComplete(Clock::time_point now) {
    Flush(kInsertRetryBudget);
    if (now < next_group_check_) return false;
    next_group_check_ = now + milliseconds(500);
    const bool log_waiting = now >= next_wait_log_;
    if (log_waiting) next_wait_log_ = now + std::chrono::seconds(15);
    if (!once_target_.GroupReached(*consumer_, offsets_, retry_, Topics(), log_waiting)) return false;
    // Behind the current watermarks of our partitions (cached: a broker query would queue
    // behind each partition's long-poll fetch); the others reached the start watermarks.
    summary_.lag = CurrentLag();
    spdlog::debug("loader: reached the watermarks");
    return true;
  }

  void OnAssign(std::vector<kafka::AssignedPartition>& partitions) override {
    // What ClickHouse holds decides where each partition resumes, once no INSERT of a member
    // that held them before (stalled past its session, or retrying after a timeout) still runs.
    fence_.Reset();
    std::map<std::string, std::map<int32_t, LoadedOffsets>> loaded;
    for (const auto& p : partitions) {
      if (loaded.count(p.topic)) continue;
      retry_.Run([&] { WaitForOtherLoadersInserts(p.topic); }, milliseconds::max());
      retry_.Run([&] { loaded[p.topic] = offsets_.Read(*FindTopicSchema(p.topic)); }, milliseconds::max());
    }
    ForgetPartitions();
    for (auto& p : partitions) {
      const auto& topic_loaded = loaded[p.topic];
      const auto it = topic_loaded.find(p.partition);
      const LoadedOffsets lo = it == topic_loaded.end() ? LoadedOffsets{} : it->second;
      PartitionState st;
      st.next_offset = lo.staging + 1;
      // The committed offset is a floor: committed only after an insert, it survives retention
      // dropping the staging partitions that held the last offsets.
      if (p.committed > st.next_offset) st.next_offset = p.committed;
      st.dead_letters_loaded_upto = lo.dead_letters;
      if (!options_.follow) {
        st.stop_at = once_target_.StopAt(*consumer_, p.topic, p.partition);
        st.done = st.next_offset >= st.stop_at;
      }
      p.start = st.next_offset;
      owned_[{p.topic, p.partition}] = st;
      spdlog::debug("loader: assigned {}[{}] from offset {}", p.topic, p.partition, st.next_offset);
    }
    assigned_ = true;
    summary_.partitions_assigned = static_cast<int>(partitions.size());
    spdlog::info("loader: assigned {} partitions", partitions.size());
  }

  void WaitForOtherLoadersInserts(const std::string& topic) {
    std::string running;
    if (!WaitForQueriesToEnd(client_, LoaderQueryIdPrefix(topic), kInsertRetryBudget, running)) {
      throw RetryBudgetExhausted("the INSERT " + running + " of an earlier owner of " + topic + " still runs");
    }
  }

  void OnRevoke() override {
    if (consumer_->AssignmentLost()) {
      // The session expired (this member stalled): another may load the partitions already.
      // Nothing held here may be written; an INSERT in flight is stopped at its next attempt.
      spdlog::warn("loader: the group gave this member's partitions to another; dropping its batches");
      fence_.Lose();
      try {
        FinishFlush();
      } catch (const std::exception& e) {
        spdlog::debug("loader: the batch in flight ended with: {}", e.what());
      }
      ResetBatch();
      ForgetPartitions();
      return;
    }
    // Before the revoke completes, nobody else may own these partitions: land the batch now,
    // or drop it (it was never inserted, so the next owner reads it again from Kafka).
    try {
      Flush(kRevokeRetryBudget);
    } catch (const std::exception& e) {
      spdlog::warn("loader: dropping the in-flight batch on revoke ({}): it will be read again", e.what());
      ResetBatch();
    }
    ForgetPartitions();
  }

  void OnRebalanceFailed() override { ForgetPartitions(); }
  void ForgetPartitions() {
    owned_.clear();
    slots_.clear();
  }

  // A batch is full at pipeline.batch_max_bytes (the loader's memory bound) or at batch_size
  // rows in one table, unless more than a batch waits in Kafka: then it grows to
  // backlog_batch_size rows. INSERTs are bound by ClickHouse's per-part cost (bench/loader), so a
  // backlog is cleared with fewer, larger ones; caught up, batches stay small and latency low.
  bool BatchFull() {
    // The byte total is a walk over the tables: every 64 messages it is close enough (a batch
    // overshoots the cap by at most 64 messages of pipeline.max_message_bytes).
    if ((++messages_since_bytes_check_ & 63) == 0 &&
        batch_.Bytes() >= static_cast<size_t>(config_.pipeline.batch_max_bytes)) {
      return true;
    }
    const size_t rows = batch_.LargestTable();
    const auto batch_size = static_cast<size_t>(config_.pipeline.batch_size);
    if (rows < batch_size) return false;
    if (rows >= static_cast<size_t>(std::max(config_.pipeline.backlog_batch_size, config_.pipeline.batch_size))) {
      return true;
    }
    if (rows >= next_backlog_check_) {  // once per batch_size rows: the lag is a walk over partitions
      backlogged_ = CurrentLag() >= static_cast<int64_t>(batch_size);
      next_backlog_check_ = rows + batch_size;
    }
    return !backlogged_;
  }

  void ResetBatch() {
    batch_.Reset();
    ++batch_generation_;  // the slots' pointers into next_offsets are stale
    backlogged_ = false;
    next_backlog_check_ = 0;
  }

  bool AllDone() const {
    return std::all_of(owned_.begin(), owned_.end(), [](const auto& entry) { return entry.second.done; });
  }

  // Null for a partition we do not own (a message fetched before a revoke).
  Slot* FindSlot(const kafka::Message& msg) {
    for (Slot& slot : slots_) {
      if (slot.topic_handle == msg.topic_handle() && slot.partition == msg.partition()) return &slot;
    }
    const std::string topic = msg.TopicName();
    auto it = owned_.find({topic, msg.partition()});
    if (it == owned_.end()) return nullptr;
    slots_.push_back(Slot{msg.topic_handle(), msg.partition(), &it->first.first, &it->second, FindTopicSchema(topic),
                          &batch_.staging[topic]});
    return &slots_.back();
  }

  void Handle(const kafka::Message& msg) {
    Slot* slot = FindSlot(msg);
    if (msg.failed()) {
      if (msg.partition_eof()) {
        if (slot && !options_.follow && slot->state->next_offset >= slot->state->stop_at) slot->state->done = true;
      } else {
        spdlog::warn("loader: kafka: {}", msg.ErrorText());
      }
      return;
    }
    if (!slot) return;  // a message fetched before a revoke
    PartitionState& st = *slot->state;
    const std::string& topic = *slot->topic;
    const int64_t offset = msg.offset();
    if (offset < st.next_offset) return;
    if (!options_.follow && offset >= st.stop_at) {
      st.done = true;  // beyond the watermark seen at start: left for the next run
      return;
    }
    if (batch_.Empty()) {
      batch_.ingested_at = static_cast<uint32_t>(std::time(nullptr));
      batch_.opened = Clock::now();
    }
    const std::string_view line = msg.payload();
    const int32_t partition = msg.partition();
    const RowOrigin origin{topic, static_cast<uint16_t>(partition), static_cast<uint64_t>(offset), batch_.ingested_at};
    TableRows& rows = *slot->rows;
    if (encoder_.Encode(*slot->schema, line, origin, rows.data, error_)) {
      rows.RowAdded(partition, offset);
      batch_.total_rows++;
    } else if (offset > st.dead_letters_loaded_upto) {
      TableRows& dead = batch_.dead_letters[topic];
      encoder_.EncodeDeadLetter(line, error_, origin, dead.data);
      dead.RowAdded(partition, offset);
      batch_.total_dead_letters++;
    }
    st.next_offset = offset + 1;
    if (slot->batch_generation != batch_generation_) {
      slot->batch_next_offset = &batch_.next_offsets[{topic, partition}];
      slot->batch_generation = batch_generation_;
    }
    *slot->batch_next_offset = offset + 1;
    if (!options_.follow && st.next_offset >= st.stop_at) st.done = true;
  }

  // Hands the open batch to a background insert and returns, so the next batch fills while
  // ClickHouse parses this one. At most one batch is in flight and batches land in order, so
  // ClickHouse always holds a prefix of each partition and the resume point stays exact.
  void StartFlush(milliseconds budget) {
    FinishFlush();
    if (batch_.Empty()) return;
    writer_.Prepare(batch_);
    fence_.Arm(batch_.FirstOffsets());
    flushing_.SwapContents(batch_);  // keeps the buffers' capacity: two batches alternate
    ResetBatch();
    flush_started_ = Clock::now();
    flush_done_ = std::async(std::launch::async, [this, budget] { writer_.Write(flushing_, budget); });
  }

  // Waits for the batch in flight, then commits its offsets and counts it. If it failed, the
  // open batch is dropped too: its rows follow the failed ones, and landing them would leave a
  // gap below the resume point. The next session reads both again from Kafka.
  void FinishFlush() {
    if (!flush_done_.valid()) return;
    try {
      flush_done_.get();
    } catch (...) {
      // Some tables may have landed: never insert this batch again. The next session resumes
      // from what ClickHouse holds, which is exact whatever part of the batch made it.
      flushing_.Reset();
      ResetBatch();
      throw;
    }
    consumer_->Commit(flushing_.next_offsets);  // lag monitoring only: correctness does not depend on it
    spdlog::debug("loader: {} rows and {} dead letters inserted in {} ms, {} ms after the batch opened",
                  flushing_.total_rows, flushing_.total_dead_letters,
                  std::chrono::duration_cast<milliseconds>(Clock::now() - flush_started_).count(),
                  std::chrono::duration_cast<milliseconds>(flush_started_ - flushing_.opened).count());
    metrics_.rows += flushing_.total_rows;
    metrics_.dead_letters += flushing_.total_dead_letters;
    metrics_.batches++;
    summary_.rows += flushing_.total_rows;
    summary_.dead_letters += flushing_.total_dead_letters;
    summary_.batches++;
    flushing_.Reset();
  }

  void FinishFlushIfDone() {
    if (flush_done_.valid() && flush_done_.wait_for(milliseconds(0)) == std::future_status::ready) FinishFlush();
  }

  // Lands the open batch before returning (a revoke, the end of a --once run, a stop).
  void Flush(milliseconds budget) {
    StartFlush(budget);
    FinishFlush();
  }

  // Messages behind the high watermarks the last fetch responses reported.
  int64_t CurrentLag() {
    int64_t lag = 0;
    for (const auto& [key, st] : owned_) lag += consumer_->CachedLag(key.first, key.second, st.next_offset);
    return lag;
  }

  const Config& config_;
  const LoaderOptions& options_;
  const std::atomic<bool>& stop_;
  LoaderMetrics& metrics_;
  LoaderSummary& summary_;
  std::atomic<bool> closing_ = false;  // read by the insert thread
  ClickHouseRetry retry_;
  ClickHouseClient client_;  // offsets on assignment; inserts use writer_'s connections
  OffsetStore offsets_;
  GroupFence fence_;
  StagingWriter writer_;
  RowEncoder encoder_{static_cast<size_t>(config_.pipeline.max_message_bytes)};
  StagingBatch batch_;     // the open batch, filling
  StagingBatch flushing_;  // the batch in flight (StartFlush), else empty buffers for the next
  std::future<void> flush_done_;
  Clock::time_point flush_started_;
  std::string error_;
  std::map<PartitionKey, PartitionState> owned_;
  std::vector<Slot> slots_;                  // cleared whenever owned_ changes
  uint64_t batch_generation_ = 1;            // bumped by ResetBatch
  OnceTarget once_target_;                   // --once: where the run ends
  uint32_t messages_since_bytes_check_ = 0;  // BatchFull
  bool backlogged_ = false;                  // the open batch may grow (BatchFull)
  size_t next_backlog_check_ = 0;
  bool assigned_ = false;
  Clock::time_point next_group_check_ = Clock::now();
  Clock::time_point next_wait_log_ = Clock::now() + std::chrono::seconds(15);
  std::unique_ptr<kafka::Consumer> consumer_;  // last: its callbacks use the members above
};

}  // namespace

LoaderSummary RunLoader(const Config& config, const LoaderOptions& options, const std::atomic<bool>& stop) {
  LoaderMetrics metrics;
  LoaderSummary summary;
  const auto start = Clock::now();
  std::unique_ptr<MetricsServer> server;
  if (options.serve_metrics) {
    server = std::make_unique<MetricsServer>(config.stack.host, config.stack.metrics_port,
                                             [&metrics] { return metrics.Render(); });
    spdlog::info("loader: metrics on http://{}:{}/metrics", config.stack.host, config.stack.metrics_port);
  }
  std::chrono::seconds backoff{1};
  while (!stop) {
    try {
      LoaderSession session(config, options, stop, metrics, summary);
      if (session.Run() && !options.follow) break;
    } catch (const RetryBudgetExhausted& e) {
      spdlog::warn("loader: {}; rejoining the group in {} s", e.what(), backoff.count());
      for (int i = 0; i < backoff.count() * 10 && !stop; ++i) std::this_thread::sleep_for(milliseconds(100));
      backoff = std::min(backoff * 2, std::chrono::seconds(30));
    } catch (const kafka::Fenced& e) {
      spdlog::warn("loader: {}; rejoining the group", e.what());
    } catch (const StopRequested&) {
      break;
    }
  }
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

}  // namespace clickflow
