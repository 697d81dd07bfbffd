#pragma once
// The loader's ClickHouse side: inserts a StagingBatch (one INSERT per table, the topics in
// parallel), retrying while ClickHouse is unreachable or busy, and checking before a retry
// whether the previous attempt landed after all (an answer lost to a timeout).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "clickhouse/client.h"
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

class StagingWriter {
 public:
  StagingWriter(const Config& config, const ClickHouseRetry& retry, LoaderMetrics& metrics)
      : config_(config), retry_(retry), metrics_(metrics) {}

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
  };

  static bool Landed(TopicConnection& connection, std::string_view table, const std::string& topic,
                     const TableRows& rows);
  void Insert(TopicConnection& connection, std::string_view table, const std::string& columns, const std::string& topic,
              TableRows& rows, std::chrono::milliseconds budget);

  const Config& config_;
  const ClickHouseRetry& retry_;
  LoaderMetrics& metrics_;
  std::map<std::string, std::unique_ptr<TopicConnection>> connections_;
};

}  // namespace clickflow
