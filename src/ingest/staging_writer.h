#pragma once
// The loader's ClickHouse side: inserts a StagingBatch (one INSERT per table, the topics in
// parallel), retrying while ClickHouse is unreachable or busy. An attempt whose answer was lost
// (a timeout) may still be running or may have landed in part (one part per day it touches):
// before a retry the writer waits until ClickHouse no longer runs it (found by its query_id),
// then sends again only the rows ClickHouse does not hold. Where the server deduplicates inserts,
// every INSERT also carries a token naming its rows (TableRows::DeduplicationToken), so an
// attempt that reaches the server only after its retry landed lands nothing.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "clickhouse/client.h"
#include "clickhouse/server_version.h"
#include "common/config.h"
#include "ingest/offset_store.h"
#include "ingest/staging_batch.h"

namespace clickflow {

// ClickHouse stayed unreachable longer than a consumer may go without polling: the session
// gives up its partitions (dropping the unsent batch) and starts over after a backoff.
class RetryBudgetExhausted : public Error {
 public:
  using Error::Error;
};
class StopRequested : public Error {
 public:
  StopRequested() : Error("stop requested") {}
};

// Below max.poll.interval.ms (300 s), so we still own our partitions while retrying.
constexpr std::chrono::milliseconds kInsertRetryBudget{120'000};
// Inside a revoke the whole group waits for us: flush quickly or drop the batch.
constexpr std::chrono::milliseconds kRevokeRetryBudget{10'000};

struct LoaderMetrics {
  std::atomic<uint64_t> rows{0}, dead_letters{0}, batches{0}, retries{0}, insert_count{0};
  std::atomic<double> insert_seconds{0};
  std::atomic<int64_t> lag{0};

  // Prometheus text of the loader's /metrics.
  std::string Render() const;
};

// How long to keep trying a ClickHouse call. A stop request ends the wait (StopRequested),
// except while the consumer closes: then the revoke's flush gets its budget.
class ClickHouseRetry {
 public:
  ClickHouseRetry(const std::atomic<bool>& stop, const std::atomic<bool>& closing) : stop_(stop), closing_(closing) {}

  // Runs `fn`, retrying while ClickHouse is unreachable or busy, up to `budget`
  // (milliseconds::max(): for ever). A missing table is an Error naming `clickflow migrate`.
  template <class Fn>
  void Run(Fn&& fn, std::chrono::milliseconds budget) const {
    const auto start = std::chrono::steady_clock::now();
    std::chrono::milliseconds backoff{200};
    while (true) {
      try {
        fn();
        return;
      } catch (const ClickHouseUnavailable& e) {
        OnUnavailable(e);
      } catch (const ClickHouseError& e) {
        OnServerError(e);
      }
      Wait(start, budget, backoff);
    }
  }

 private:
  static void OnUnavailable(const ClickHouseUnavailable& e);
  // Called inside the catch block: rethrows what is not worth a retry.
  static void OnServerError(const ClickHouseError& e);
  void Wait(std::chrono::steady_clock::time_point start, std::chrono::milliseconds budget,
            std::chrono::milliseconds& backoff) const;

  const std::atomic<bool>& stop_;
  const std::atomic<bool>& closing_;
};

// Asked before every INSERT attempt whether this loader still owns the partitions it writes;
// throws (kafka::Fenced) when it does not. ClickHouse cannot refuse a write from a member the
// group has replaced, so the check is made by the group's coordinator (see loader.cc).
class InsertFence {
 public:
  virtual ~InsertFence() = default;
  virtual void Check() = 0;
};

class StagingWriter {
 public:
  StagingWriter(const Config& config, const ClickHouseRetry& retry, InsertFence& fence, LoaderMetrics& metrics)
      : config_(config), retry_(retry), fence_(fence), metrics_(metrics) {}

  // Opens the connections `batch` needs; on the session's thread, before Write runs elsewhere.
  void Prepare(const StagingBatch& batch);

  // Inserts every table of `batch`; throws the first error after all inserts ended. Within a
  // topic dead letters go first (see loader.h).
  void Write(StagingBatch& batch, std::chrono::milliseconds budget);

 private:
  // One connection per topic, so a flush inserts the four tables in parallel: at the default
  // batch of 1000 rows an INSERT's round trip, not parsing, bounds the loader (bench/loader).
  struct TopicConnection {
    explicit TopicConnection(const Config& config);
    ClickHouseClient client;
    OffsetStore offsets;
    std::optional<ServerVersion> server;  // asked before the first INSERT and again after a failed one
  };

  void Insert(TopicConnection& connection, std::string_view table, const std::string& columns, const std::string& topic,
              TableRows& rows, std::chrono::milliseconds budget);

  const Config& config_;
  const ClickHouseRetry& retry_;
  InsertFence& fence_;
  LoaderMetrics& metrics_;
  std::map<std::string, std::unique_ptr<TopicConnection>> connections_;
};

}  // namespace clickflow
