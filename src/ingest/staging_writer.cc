#include "ingest/staging_writer.h"

#include <spdlog/spdlog.h>

#include <ctime>
#include <exception>
#include <future>
#include <thread>
#include <vector>

#include "common/failpoint.h"
#include "common/prometheus.h"
#include "ingest/event_schema.h"

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

}  // namespace

std::string LoaderMetrics::Render() const {
  prometheus::Text text;
  text.Single("clickflow_loader_rows_total", "counter", "Rows inserted into staging tables.", rows.load())
      .Single("clickflow_loader_dead_letters_total", "counter", "Lines sent to ingest_errors.", dead_letters.load())
      .Single("clickflow_loader_batches_total", "counter", "Batches flushed.", batches.load())
      .Single("clickflow_loader_insert_retries_total", "counter", "Inserts retried after a ClickHouse failure.",
              retries.load())
      .Single("clickflow_loader_lag_messages", "gauge", "Messages behind the high watermarks.", lag.load())
      .Family("clickflow_loader_insert_seconds", "summary", "Time spent in INSERTs.")
      .Sample("clickflow_loader_insert_seconds_sum", insert_seconds.load())
      .Sample("clickflow_loader_insert_seconds_count", insert_count.load());
  return text.Take();
}

void ClickHouseRetry::OnUnavailable(const ClickHouseUnavailable& e) {
  spdlog::warn("loader: ClickHouse unavailable: {}", e.what());
}

void ClickHouseRetry::OnServerError(const ClickHouseError& e) {
  if (e.code() == 60 || e.code() == 81) {
    throw Error(std::string(e.what()) + "\n(run `clickflow migrate` to create the schema)");
  }
  if (!RetriableServerError(e.code())) throw;  // called inside the catch: rethrows the original
  spdlog::warn("loader: ClickHouse busy: {}", e.what());
}

void ClickHouseRetry::Wait(Clock::time_point start, milliseconds budget, milliseconds& backoff) const {
  if (stop_ && !closing_) throw StopRequested();
  if (budget != milliseconds::max() && Clock::now() - start > budget) {
    throw RetryBudgetExhausted("ClickHouse unavailable for more than " + std::to_string(budget.count() / 1000) + " s");
  }
  std::this_thread::sleep_for(backoff);
  backoff = std::min(backoff * 2, milliseconds(5000));
}

StagingWriter::TopicConnection::TopicConnection(const Config& config)
    : client(config.clickhouse, ClickHouseTimeouts{milliseconds(5000), milliseconds(30'000)}),
      offsets(client, config.clickhouse.database) {}

void StagingWriter::Prepare(const StagingBatch& batch) {
  auto open = [this](const std::string& topic) {
    auto& connection = connections_[topic];
    if (!connection) connection = std::make_unique<TopicConnection>(config_);
  };
  for (const auto& [topic, rows] : batch.staging) open(topic);
  for (const auto& [topic, rows] : batch.dead_letters) open(topic);
}

void StagingWriter::Insert(TopicConnection& connection, std::string_view table, const std::string& columns,
                           const std::string& topic, TableRows& rows, milliseconds budget) {
  std::string previous_attempt;  // query_id of the last attempt, whose outcome is unknown
  retry_.Run(
      [&] {
        if (!previous_attempt.empty()) {
          metrics_.retries++;
          connection.server.reset();  // the attempt may have failed because another server took over
          std::string running;
          if (!WaitForQueriesToEnd(connection.client, previous_attempt, budget, running)) {
            throw RetryBudgetExhausted("ClickHouse still runs the INSERT " + running + " of a timed-out attempt");
          }
          const size_t before = rows.rows;
          rows.DropRows(connection.offsets.Landed(table, topic, rows.partitions));
          spdlog::warn("loader: retrying the INSERT into {} ({} of its {} rows had landed)", table, before - rows.rows,
                       before);
          if (rows.rows == 0) return;
        }
        fence_.Check();
        if (!connection.server) connection.server = QueryServerVersion(connection.client);
        previous_attempt = NewLoaderQueryId(topic, table);
        ClickHouseSettings settings = {{"query_id", previous_attempt}};
        if (connection.server->SupportsInsertDeduplication()) {
          settings.emplace("insert_deduplication_token", rows.DeduplicationToken(table, topic));
        }
        rows.Stamp(static_cast<uint32_t>(std::time(nullptr)));
        const auto start = Clock::now();
        connection.client.Insert(config_.clickhouse.database + "." + std::string(table) + " " + columns, "RowBinary",
                                 rows.data, settings);
        metrics_.insert_seconds.fetch_add(std::chrono::duration<double>(Clock::now() - start).count());
        metrics_.insert_count++;
      },
      budget);
}

// Topics are independent (each resumes from its own tables), so they are inserted in parallel.
void StagingWriter::Write(StagingBatch& batch, milliseconds budget) {
  std::vector<std::future<void>> inserts;
  for (const auto& schema : AllTopicSchemas()) {
    const std::string topic(schema.topic);
    TableRows* dead = batch.dead_letters.count(topic) ? &batch.dead_letters.at(topic) : nullptr;
    TableRows* rows = batch.staging.count(topic) ? &batch.staging.at(topic) : nullptr;
    if (dead && dead->rows == 0) dead = nullptr;
    if (rows && rows->rows == 0) rows = nullptr;
    if (!dead && !rows) continue;
    TopicConnection& connection = *connections_.at(topic);
    inserts.push_back(std::async(std::launch::async, [&, topic, dead, rows] {
      if (dead) Insert(connection, kDeadLetterTable, std::string(kDeadLetterColumns), topic, *dead, budget);
      if (dead && rows) Failpoint("loader.between_dead_letters_and_staging");
      if (rows) Insert(connection, schema.table, schema.ColumnList(), topic, *rows, budget);
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

}  // namespace clickflow
