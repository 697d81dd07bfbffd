#include "ingest/loader.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <exception>
#include <future>
#include <memory>
#include <thread>

#include "clickhouse/client.h"
#include "common/metrics_server.h"
#include "kafka/admin.h"
#include "ingest/offset_store.h"
#include "ingest/row_encoder.h"
#include "ingest/staging_batch.h"

namespace clickflow {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ClickHouse answers worth retrying: the server is busy, not wrong.
bool RetriableServerError(int code) {
  switch (code) {
    case 159:  // TIMEOUT_EXCEEDED
    case 202:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case 209:  // SOCKET_TIMEOUT
    case 210:  // NETWORK_ERROR
    case 242:  // TABLE_IS_READ_ONLY
    case 252:  // TOO_MANY_PARTS
      return true;
    default:
      return false;
  }
}

// ClickHouse stayed unreachable longer than a consumer may go without polling: the session
// gives up its partitions (dropping the unsent batch) and starts over after a backoff.
class RetryBudgetExhausted : public Error {
 public:
  using Error::Error;
};
class TopicMissing : public Error {
 public:
  using Error::Error;
};
class StopRequested : public Error {
 public:
  StopRequested() : Error("stop requested") {}
};

// Below max.poll.interval.ms (300 s), so we still own our partitions while retrying.
constexpr milliseconds kInsertRetryBudget{120'000};
// Inside a revoke the whole group waits for us: flush quickly or drop the batch.
constexpr milliseconds kRevokeRetryBudget{10'000};

struct Metrics {
  std::atomic<uint64_t> rows{0}, dead_letters{0}, batches{0}, retries{0}, insert_count{0};
  std::atomic<double> insert_seconds{0};
  std::atomic<int64_t> lag{0};

  std::string Render() const {
    auto line = [](const char* name, const char* type, const char* help, auto value) {
      return fmt::format("# HELP {0} {2}\n# TYPE {0} {1}\n{0} {3}\n", name, type, help, value);
    };
    return line("clickflow_loader_rows_total", "counter", "Rows inserted into staging tables.", rows.load()) +
           line("clickflow_loader_dead_letters_total", "counter", "Lines sent to ingest_errors.", dead_letters.load()) +
           line("clickflow_loader_batches_total", "counter", "Batches flushed.", batches.load()) +
           line("clickflow_loader_insert_retries_total", "counter", "Inserts retried after a ClickHouse failure.", retries.load()) +
           line("clickflow_loader_lag_messages", "gauge", "Messages behind the high watermarks.", lag.load()) +
           fmt::format("# HELP clickflow_loader_insert_seconds Time spent in INSERTs.\n"
                       "# TYPE clickflow_loader_insert_seconds summary\n"
                       "clickflow_loader_insert_seconds_sum {}\nclickflow_loader_insert_seconds_count {}\n",
                       insert_seconds.load(), insert_count.load());
  }
};

struct PartitionState {
  int64_t next_offset = 0;              // the next offset to load
  int64_t dead_letters_loaded_upto = -1;  // replayed lines up to here already have their dead letter
  int64_t stop_at = -1;                 // --once: the high watermark at assignment (exclusive)
  bool done = false;
};

using PartitionKey = std::pair<std::string, int32_t>;

// Up to 1,024 messages from the consumer queue per call, destroyed when it goes out of scope.
// One call per batch instead of one rd_kafka_consumer_poll per message, which reads the clock
// and takes the queue lock each time (11% of a profile); measured alone it did not change the
// rate, since the loader was waiting on fetches (see max.partition.fetch.bytes below).
// The call also serves rebalance callbacks; messages of a partition revoked meanwhile are
// ignored by Handle (no slot), as with single polls.
struct PolledMessages {
  static constexpr size_t kMax = 1024;
  explicit PolledMessages(rd_kafka_queue_t* queue)
      : count(std::max<ssize_t>(0, rd_kafka_consume_batch_queue(queue, 100, messages, kMax))) {}
  ~PolledMessages() {
    for (ssize_t i = 0; i < count; ++i) rd_kafka_message_destroy(messages[i]);
  }
  PolledMessages(const PolledMessages&) = delete;
  PolledMessages& operator=(const PolledMessages&) = delete;

  rd_kafka_message_t* messages[kMax];
  ssize_t count;
};

class LoaderSession {
 public:
  LoaderSession(const Config& config, const LoaderOptions& options, const std::atomic<bool>& stop,
                Metrics& metrics, LoaderSummary& summary)
      : config_(config), options_(options), stop_(stop), metrics_(metrics), summary_(summary),
        client_(config.clickhouse, ClickHouseTimeouts{milliseconds(5000), milliseconds(30'000)}),
        offsets_(client_, config.clickhouse.database) {
    for (const auto& name : options.topics) {
      if (!FindTopicSchema(name)) throw Error("unknown topic '" + name + "' (expected one of the four event topics)");
    }
    CreateConsumer();
  }

  ~LoaderSession() {
    if (!rk_) return;
    // Leaving the group revokes our partitions; the callback flushes or drops the batch.
    closing_ = true;
    rd_kafka_queue_destroy(queue_);  // our reference; close serves the consumer queue itself
    spdlog::debug("loader: closing the consumer");
    rd_kafka_consumer_close(rk_);
    spdlog::debug("loader: consumer closed");
    rd_kafka_destroy(rk_);
    spdlog::debug("loader: consumer destroyed");
  }

  // Returns true when a --once run has reached its watermarks.
  bool Run() {
    Preflight();
    Subscribe();
    if (!options_.follow && stop_offsets_.empty()) stop_offsets_ = ReadHighWatermarksWhenKafkaIsUp();
    auto next_lag_log = Clock::now() + std::chrono::seconds(options_.lag_log_interval_s);
    auto next_group_check = Clock::now();
    auto next_wait_log = Clock::now() + std::chrono::seconds(15);
    while (!stop_) {
      const PolledMessages polled(queue_);
      RethrowCallbackError();
      for (ssize_t i = 0; i < polled.count; ++i) {
        Handle(*polled.messages[i]);
        if (BatchFull() || batch_.total_dead_letters >= static_cast<size_t>(config_.pipeline.batch_size)) {
          StartFlush(kInsertRetryBudget);
        }
      }
      FinishFlushIfDone();
      const auto now = Clock::now();
      if (!batch_.Empty() && now - batch_.opened >= milliseconds(config_.pipeline.flush_interval_ms)) {
        StartFlush(kInsertRetryBudget);
      }
      if (!options_.follow && assigned_ && AllDone()) {
        Flush(kInsertRetryBudget);
        // Our partitions are done; the run is done only when every partition of the topics is
        // loaded up to the start watermarks: other members of the group (a --follow service, or
        // a killed run whose session has not expired yet) may own the rest.
        if (now >= next_group_check) {
          next_group_check = now + milliseconds(500);
          const bool log_waiting = now >= next_wait_log;
          if (log_waiting) next_wait_log = now + std::chrono::seconds(15);
          if (GroupReachedStopOffsets(log_waiting)) {
            // Behind the current watermarks of our partitions (cached: a broker query would queue
            // behind each partition's long-poll fetch); the others reached the start watermarks.
            summary_.lag = CurrentLag();
            spdlog::debug("loader: reached the watermarks");
            return true;
          }
        }
      }
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
  void CreateConsumer() {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const char* key, const std::string& value) {
      if (rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw Error(std::string("kafka consumer config ") + key + ": " + err);
      }
    };
    set("bootstrap.servers", config_.kafka.bootstrap_servers);
    set("group.id", options_.group_id);
    set("client.id", options_.follow ? "clickflow-load-follow" : "clickflow-load-once");
    // Offsets live in ClickHouse; the group's committed offsets are for lag monitoring and a floor.
    set("enable.auto.commit", "false");
    set("enable.auto.offset.store", "false");
    set("auto.offset.reset", "earliest");
    set("enable.partition.eof", "true");
    set("max.poll.interval.ms", "300000");
    set("log_level", "4");
    // Up to 8 MB per partition per fetch (librdkafka's default is 1 MB), 100 MB per request:
    // with 1 MB the loader waited on fetches and used a quarter of a core. bench/loader, 1M
    // events (4M lines, 12 partitions): 177k -> 379k rows/s; the price is memory while a backlog
    // is read (peak RSS 265 -> 637 MB), not while caught up.
    set("max.partition.fetch.bytes", "8388608");
    set("fetch.max.bytes", "104857600");
    rd_kafka_conf_set_rebalance_cb(conf, &LoaderSession::RebalanceCallback);
    rd_kafka_conf_set_opaque(conf, this);
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk_) throw Error(std::string("cannot create the Kafka consumer: ") + err);
    rd_kafka_poll_set_consumer(rk_);
    queue_ = rd_kafka_queue_get_consumer(rk_);
  }

  std::vector<std::string> Topics() const {
    return options_.topics.empty() ? kafka::PlatformTopics() : options_.topics;
  }

  // Fails early and clearly when the schema is missing; waits while ClickHouse is down.
  void Preflight() {
    for (const auto& topic : Topics()) {
      WithClickHouseRetry([&] { offsets_.Read(*FindTopicSchema(topic)); }, milliseconds::max());
    }
  }

  void Subscribe() {
    auto topics = Topics();
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
    for (const auto& t : topics) rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rc = rd_kafka_subscribe(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (rc) throw Error(std::string("cannot subscribe: ") + rd_kafka_err2str(rc));
  }

  // Runs `fn`, retrying while ClickHouse is unreachable or busy, up to `budget`.
  template <class Fn>
  void WithClickHouseRetry(Fn&& fn, milliseconds budget) {
    const auto start = Clock::now();
    milliseconds backoff{200};
    while (true) {
      try {
        fn();
        return;
      } catch (const ClickHouseUnavailable& e) {
        spdlog::warn("loader: ClickHouse unavailable: {}", e.what());
      } catch (const ClickHouseError& e) {
        if (e.code() == 60 || e.code() == 81) {
          throw Error(std::string(e.what()) + "\n(run `clickflow migrate` to create the schema)");
        }
        if (!RetriableServerError(e.code())) throw;
        spdlog::warn("loader: ClickHouse busy: {}", e.what());
      }
      if (stop_ && !closing_) throw StopRequested();
      if (budget != milliseconds::max() && Clock::now() - start > budget) {
        throw RetryBudgetExhausted("ClickHouse unavailable for more than " +
                                   std::to_string(budget.count() / 1000) + " s");
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, milliseconds(5000));
    }
  }

  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<LoaderSession*>(opaque);
    // Exceptions must not cross librdkafka's C frames: keep the first and rethrow after poll.
    try {
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        self->OnAssign(partitions);
      } else {
        self->OnRevoke();
      }
    } catch (...) {
      if (!self->callback_error_) self->callback_error_ = std::current_exception();
      rd_kafka_assign(rk, nullptr);
      self->owned_.clear();
      self->slots_.clear();
    }
  }

  void RethrowCallbackError() {
    if (callback_error_) {
      auto e = callback_error_;
      callback_error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

  void OnAssign(rd_kafka_topic_partition_list_t* partitions) {
    // What ClickHouse holds decides where each partition resumes.
    std::map<std::string, std::map<int32_t, LoadedOffsets>> loaded;
    for (int i = 0; i < partitions->cnt; ++i) {
      const std::string topic = partitions->elems[i].topic;
      if (loaded.count(topic)) continue;
      WithClickHouseRetry([&] { loaded[topic] = offsets_.Read(*FindTopicSchema(topic)); }, milliseconds::max());
    }
    rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_copy(partitions);
    const bool have_committed = rd_kafka_committed(rk_, committed, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR;

    owned_.clear();
    slots_.clear();
    for (int i = 0; i < partitions->cnt; ++i) {
      auto& elem = partitions->elems[i];
      const std::string topic = elem.topic;
      const LoadedOffsets lo = loaded[topic].count(elem.partition) ? loaded[topic][elem.partition] : LoadedOffsets{};
      PartitionState st;
      st.next_offset = lo.staging + 1;
      // The committed offset is a floor: committed only after an insert, it survives retention
      // dropping the staging partitions that held the last offsets.
      const int64_t committed_offset = have_committed ? committed->elems[i].offset : -1;
      if (committed_offset > st.next_offset) st.next_offset = committed_offset;
      st.dead_letters_loaded_upto = lo.dead_letters;
      if (!options_.follow) {
        auto stop = stop_offsets_.find({topic, elem.partition});
        if (stop == stop_offsets_.end()) {  // a partition added since the start
          stop = stop_offsets_.emplace(PartitionKey{topic, elem.partition}, HighWatermark(topic, elem.partition)).first;
        }
        st.stop_at = stop->second;
        st.done = st.next_offset >= st.stop_at;
      }
      elem.offset = st.next_offset;
      owned_[{topic, elem.partition}] = st;
      spdlog::debug("loader: assigned {}[{}] from offset {}", topic, elem.partition, st.next_offset);
    }
    rd_kafka_topic_partition_list_destroy(committed);
    rd_kafka_resp_err_t rc = rd_kafka_assign(rk_, partitions);
    if (rc) throw Error(std::string("cannot assign partitions: ") + rd_kafka_err2str(rc));
    assigned_ = true;
    summary_.partitions_assigned = partitions->cnt;
    spdlog::info("loader: assigned {} partitions", partitions->cnt);
  }

  void OnRevoke() {
    // Before the revoke completes, nobody else may own these partitions: land the batch now,
    // or drop it (it was never inserted, so the next owner reads it again from Kafka).
    try {
      Flush(kRevokeRetryBudget);
    } catch (const std::exception& e) {
      spdlog::warn("loader: dropping the in-flight batch on revoke ({}): it will be read again", e.what());
      ResetBatch();
    }
    owned_.clear();
    slots_.clear();
    rd_kafka_assign(rk_, nullptr);
  }

  // A batch is full at pipeline.batch_size rows in one table, unless more than a batch is
  // waiting in Kafka: then it grows to pipeline.backlog_batch_size. Small INSERTs are bound by
  // ClickHouse's per-INSERT (per-part) cost, not by parsing (bench/loader), so a backlog is
  // cleared with fewer, larger ones; caught up, batches stay small and latency low.
  bool BatchFull() {
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
    for (const auto& [key, st] : owned_) {
      if (!st.done) return false;
    }
    return true;
  }

  // What Handle needs per (topic, partition), found once rather than through string-keyed maps
  // for every message (those lookups and the topic name's copy were a tenth of the profile).
  struct Slot {
    const rd_kafka_topic_t* rkt = nullptr;
    int32_t partition = -1;
    const std::string* topic = nullptr;  // the key in owned_
    PartitionState* state = nullptr;
    const TopicSchema* schema = nullptr;
    TableRows* rows = nullptr;  // batch_.staging[topic]: entries outlive ResetBatch, which only empties them
    uint64_t batch_generation = 0;  // next_offset below points into this batch's map
    int64_t* batch_next_offset = nullptr;
  };

  // Null for a partition we do not own (a message fetched before a revoke).
  Slot* FindSlot(const rd_kafka_message_t& msg) {
    for (Slot& slot : slots_) {
      if (slot.rkt == msg.rkt && slot.partition == msg.partition) return &slot;
    }
    const std::string topic = msg.rkt ? rd_kafka_topic_name(msg.rkt) : "";
    auto it = owned_.find({topic, msg.partition});
    if (it == owned_.end()) return nullptr;
    slots_.push_back(Slot{msg.rkt, msg.partition, &it->first.first, &it->second, FindTopicSchema(topic),
                          &batch_.staging[topic]});
    return &slots_.back();
  }

  void Handle(const rd_kafka_message_t& msg) {
    Slot* slot = FindSlot(msg);
    if (msg.err) {
      if (msg.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (slot && !options_.follow && slot->state->next_offset >= slot->state->stop_at) slot->state->done = true;
      } else {
        spdlog::warn("loader: kafka: {}", rd_kafka_message_errstr(&msg));
      }
      return;
    }
    if (!slot) return;  // a message fetched before a revoke
    PartitionState& st = *slot->state;
    const std::string& topic = *slot->topic;
    const int64_t offset = msg.offset;
    if (offset < st.next_offset) return;
    if (!options_.follow && offset >= st.stop_at) {
      st.done = true;  // beyond the watermark seen at start: left for the next run
      return;
    }
    if (batch_.Empty()) {
      batch_.ingested_at = static_cast<uint32_t>(std::time(nullptr));
      batch_.opened = Clock::now();
    }
    const TopicSchema& schema = *slot->schema;
    const std::string_view line(static_cast<const char*>(msg.payload), msg.payload ? msg.len : 0);
    const RowOrigin origin{topic, static_cast<uint16_t>(msg.partition), static_cast<uint64_t>(offset), batch_.ingested_at};
    TableRows& rows = *slot->rows;
    if (encoder_.Encode(schema, line, origin, rows.data, error_)) {
      rows.RowAdded();
      rows.partitions[msg.partition].Add(offset);
      batch_.total_rows++;
    } else if (offset > st.dead_letters_loaded_upto) {
      TableRows& dead = batch_.dead_letters[topic];
      RowEncoder::EncodeDeadLetter(line, error_, origin, dead.data);
      dead.RowAdded();
      dead.partitions[msg.partition].Add(offset);
      batch_.total_dead_letters++;
    }
    st.next_offset = offset + 1;
    if (slot->batch_generation != batch_generation_) {
      slot->batch_next_offset = &batch_.next_offsets[{topic, msg.partition}];
      slot->batch_generation = batch_generation_;
    }
    *slot->batch_next_offset = offset + 1;
    if (!options_.follow && st.next_offset >= st.stop_at) st.done = true;
  }

  // One connection per topic, so a flush inserts the four tables in parallel: at the default
  // batch of 1000 rows an INSERT's round trip, not parsing, bounds the loader (bench/loader).
  struct TopicWriter {
    TopicWriter(const Config& config)
        : client(config.clickhouse, ClickHouseTimeouts{milliseconds(5000), milliseconds(30'000)}),
          offsets(client, config.clickhouse.database) {}
    ClickHouseClient client;
    OffsetStore offsets;
  };

  // Created on the session's thread only (StartFlush), before the inserts that use them.
  TopicWriter& Writer(const std::string& topic) {
    auto& writer = writers_[topic];
    if (!writer) writer = std::make_unique<TopicWriter>(config_);
    return *writer;
  }

  // True when ClickHouse already holds every offset of `rows` (an insert whose answer was lost).
  static bool Landed(TopicWriter& writer, std::string_view table, const std::string& topic, const TableRows& rows) {
    auto max_offsets = writer.offsets.MaxOffsets(table, topic);
    for (const auto& [partition, range] : rows.partitions) {
      auto it = max_offsets.find(partition);
      if (it == max_offsets.end() || it->second < range.last) return false;
    }
    return true;
  }

  void Insert(TopicWriter& writer, std::string_view table, const std::string& columns, const std::string& topic,
              TableRows& rows, milliseconds budget) {
    bool first_attempt = true;
    WithClickHouseRetry([&] {
      if (!first_attempt) {
        metrics_.retries++;
        if (Landed(writer, table, topic, rows)) return;
      }
      first_attempt = false;
      rows.Stamp(static_cast<uint32_t>(std::time(nullptr)));
      const auto start = Clock::now();
      writer.client.Insert(config_.clickhouse.database + "." + std::string(table) + " " + columns, "RowBinary",
                           rows.data);
      metrics_.insert_seconds.fetch_add(std::chrono::duration<double>(Clock::now() - start).count());
      metrics_.insert_count++;
    }, budget);
  }

  // Hands the open batch to a background insert and returns, so the next batch fills while
  // ClickHouse parses this one (the loader used to wait on each INSERT). At most one batch is
  // in flight and batches land in order, so ClickHouse always holds a prefix of each partition
  // and the resume point stays exact.
  void StartFlush(milliseconds budget) {
    FinishFlush();
    if (batch_.Empty()) return;
    for (const auto& [topic, rows] : batch_.staging) Writer(topic);
    for (const auto& [topic, rows] : batch_.dead_letters) Writer(topic);
    flushing_.SwapContents(batch_);  // keeps the buffers' capacity: two batches alternate
    ResetBatch();
    flush_started_ = Clock::now();
    flush_done_ = std::async(std::launch::async, [this, budget] { InsertBatch(flushing_, budget); });
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
    CommitOffsets(flushing_.next_offsets);
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

  // Topics are independent (each resumes from its own tables), so they are inserted in
  // parallel; within a topic, dead letters go first: see the header for why.
  void InsertBatch(StagingBatch& batch, milliseconds budget) {
    std::vector<std::future<void>> inserts;
    for (const auto& schema : AllTopicSchemas()) {
      const std::string topic(schema.topic);
      TableRows* dead = batch.dead_letters.count(topic) ? &batch.dead_letters.at(topic) : nullptr;
      TableRows* rows = batch.staging.count(topic) ? &batch.staging.at(topic) : nullptr;
      if (dead && dead->rows == 0) dead = nullptr;
      if (rows && rows->rows == 0) rows = nullptr;
      if (!dead && !rows) continue;
      TopicWriter& writer = *writers_.at(topic);
      inserts.push_back(std::async(std::launch::async, [&, topic, dead, rows] {
        if (dead) Insert(writer, kDeadLetterTable, std::string(kDeadLetterColumns), topic, *dead, budget);
        if (rows) Insert(writer, schema.table, schema.ColumnList(), topic, *rows, budget);
      }));
    }
    std::exception_ptr first_error;
    for (auto& insert : inserts) {
      try {
        insert.get();
      } catch (...) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (first_error) std::rethrow_exception(first_error);
  }

  void CommitOffsets(const std::map<PartitionKey, int64_t>& next_offsets) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size()));
    for (const auto& [key, next] : next_offsets) {
      rd_kafka_topic_partition_list_add(list, key.first.c_str(), key.second)->offset = next;
    }
    rd_kafka_commit(rk_, list, 1);  // async: lag monitoring only, correctness does not depend on it
    rd_kafka_topic_partition_list_destroy(list);
  }

  int64_t HighWatermark(const std::string& topic, int32_t partition) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t rc = rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &low, &high, 10'000);
    if (rc) throw Error(fmt::format("cannot read watermarks of {}[{}]: {}", topic, partition, rd_kafka_err2str(rc)));
    return high;
  }

  // --once: the high watermark of every partition of the topics, read before joining the group.
  std::map<PartitionKey, int64_t> ReadHighWatermarks() {
    std::map<PartitionKey, int64_t> out;
    for (const auto& topic : Topics()) {
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

  std::map<PartitionKey, int64_t> ReadHighWatermarksWhenKafkaIsUp() {
    milliseconds backoff{500};
    while (true) {
      try {
        return ReadHighWatermarks();
      } catch (const TopicMissing&) {
        throw;
      } catch (const Error& e) {
        if (stop_) throw StopRequested();
        spdlog::warn("loader: {}; retrying in {} ms", e.what(), backoff.count());
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, milliseconds(5000));
    }
  }

  // How far each partition is loaded, whoever loaded it: ClickHouse's offsets, never below the
  // group's committed offset (see OnAssign).
  std::map<PartitionKey, int64_t> LoadedUpTo() {
    std::map<PartitionKey, int64_t> out;
    for (const auto& topic : Topics()) {
      std::map<int32_t, LoadedOffsets> loaded;
      WithClickHouseRetry([&] { loaded = offsets_.Read(*FindTopicSchema(topic)); }, kInsertRetryBudget);
      for (const auto& [partition, lo] : loaded) out[{topic, partition}] = std::max(lo.staging, lo.dead_letters) + 1;
    }
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(stop_offsets_.size()));
    for (const auto& [key, stop] : stop_offsets_) rd_kafka_topic_partition_list_add(list, key.first.c_str(), key.second);
    if (rd_kafka_committed(rk_, list, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < list->cnt; ++i) {
        int64_t& at = out[{list->elems[i].topic, list->elems[i].partition}];
        at = std::max(at, list->elems[i].offset);
      }
    }
    rd_kafka_topic_partition_list_destroy(list);
    return out;
  }

  bool GroupReachedStopOffsets(bool log_waiting) {
    const auto loaded = LoadedUpTo();
    bool done = true;
    for (const auto& [key, stop] : stop_offsets_) {
      auto it = loaded.find(key);
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

  // Messages behind the high watermarks the last fetch responses reported.
  int64_t CurrentLag() {
    int64_t lag = 0;
    for (const auto& [key, st] : owned_) {
      int64_t low = 0, high = 0;
      rd_kafka_resp_err_t rc = rd_kafka_get_watermark_offsets(rk_, key.first.c_str(), key.second, &low, &high);
      if (rc == RD_KAFKA_RESP_ERR_NO_ERROR && high > st.next_offset) lag += high - st.next_offset;
    }
    return lag;
  }

  const Config& config_;
  const LoaderOptions& options_;
  const std::atomic<bool>& stop_;
  Metrics& metrics_;
  LoaderSummary& summary_;
  ClickHouseClient client_;  // offsets on assignment; inserts use writers_
  OffsetStore offsets_;
  std::map<std::string, std::unique_ptr<TopicWriter>> writers_;
  RowEncoder encoder_;
  StagingBatch batch_;     // the open batch, filling
  StagingBatch flushing_;  // the batch in flight (StartFlush), else empty buffers for the next
  std::future<void> flush_done_;
  Clock::time_point flush_started_;
  std::string error_;
  std::map<PartitionKey, PartitionState> owned_;
  std::vector<Slot> slots_;        // cleared whenever owned_ changes
  uint64_t batch_generation_ = 1;  // bumped by ResetBatch
  std::map<PartitionKey, int64_t> stop_offsets_;  // --once: high watermarks at the start
  bool backlogged_ = false;                        // the open batch may grow (BatchFull)
  size_t next_backlog_check_ = 0;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer queue: messages and rebalance events
  bool assigned_ = false;
  std::atomic<bool> closing_ = false;  // read by the insert thread
  std::exception_ptr callback_error_;
};

}  // namespace

LoaderSummary RunLoader(const Config& config, const LoaderOptions& options, const std::atomic<bool>& stop) {
  Metrics metrics;
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
    } catch (const StopRequested&) {
      break;
    }
  }
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

}  // namespace clickflow
