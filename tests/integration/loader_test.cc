// The loader's exactly-once promise against the real broker and server: kill -9 while a run is
// loading (seen in ClickHouse), a crash between a batch's dead-letter and staging INSERTs, a
// --once run beside a --follow service, ClickHouse and Kafka killed mid-load. The check is
// always the same: every (topic, partition, offset) Kafka holds is in staging or in the dead
// letters, exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "clickhouse/client.h"
#include "ingest/event_schema.h"
#include "ingest/row_encoder.h"
#include "kafka/admin.h"
#include "loader_fixture.h"
#include "stack/state.h"
#include "test_env.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Clickflow;
using testing::RunProgram;
using testing::StackConfig;
using testing::UniqueGroup;

class LoaderTest : public testing::LoaderFixture {
 protected:
  // An INSERT whose body the killed loader had sent completes on the server after the kill. The
  // next round starts only when it is over: in production, the next owner of a killed member's
  // partitions gets them only after kafka.session_timeout_ms (45 s).
  void WaitForInsertsToEnd() {
    const std::string sql = "SELECT count() FROM system.processes WHERE query LIKE 'INSERT INTO " + db_ + ".%'";
    for (int i = 0; i < 600 && client_.QueryInt(sql) > 0; ++i) std::this_thread::sleep_for(50ms);
    ASSERT_EQ(client_.QueryInt(sql), 0) << "an INSERT of the killed loader is still running";
  }

  // Rows in staging and the dead letters, copies included: what the loaders have inserted.
  int64_t RowsInserted() { return LoadedRows(); }

  // Offsets that are nowhere although a higher offset of their partition is in the dead letters:
  // a batch whose dead letters landed and whose staging rows did not. (Dead letters above the
  // last staging row are normal when a partition's newest lines are malformed, but then the
  // offsets between are dead letters too.)
  int64_t HolesBelowDeadLetters() {
    std::string staging;
    for (const auto& schema : AllTopicSchemas()) {
      if (!staging.empty()) staging += " UNION ALL ";
      staging += "SELECT _topic, _partition, _offset FROM " + db_ + "." + std::string(schema.table);
    }
    const std::string last_staged =
        "SELECT _topic, _partition, toInt64(max(_offset)) AS last_staged, 1 AS staged FROM (" + staging +
        ") GROUP BY _topic, _partition";
    const std::string ahead =
        "SELECT _topic, _partition, toInt64(_offset) AS dead_offset, if(staged = 1, last_staged, -1) AS below FROM " +
        db_ + ".ingest_errors ANY LEFT JOIN (" + last_staged +
        ") AS staged_max USING (_topic, _partition) WHERE dead_offset > below";
    return client_.QueryInt("SELECT sum(holes) FROM (SELECT max(dead_offset) - any(below) - count() AS holes FROM (" +
                            ahead + ") GROUP BY _topic, _partition)");
  }
};

// Each round is a `load --once` killed with -9 once ClickHouse shows it has inserted rows, at a
// random instant after that, and before it has loaded everything. Each round joins a group of
// its own: the loader resumes from what ClickHouse holds, whatever the group, while a killed
// member keeps a shared group's partitions until kafka.session_timeout_ms (45 s by default)
// expires, and the next round would load nothing meanwhile.
TEST_F(LoaderTest, KillNineWhileLoadingNeitherLosesNorRepeatsAnOffset) {
  ProduceGenerated(200'000, 11);
  const int64_t in_kafka = MessagesInKafka();
  // Small batches: many INSERTs per run, so a kill can fall between any two of them.
  const std::map<std::string, std::string> small_batches{{"CLICKFLOW_PIPELINE_BACKLOG_BATCH_SIZE", "5000"}};
  std::mt19937 rng(12345);
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const int64_t before = RowsInserted();
    pid_t pid =
        StartLoader({"--once", "--group", UniqueGroup("kill" + std::to_string(round))}, "loader-kill", small_batches);
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (RowsInserted() == before && std::chrono::steady_clock::now() < deadline && !TryReap(pid)) {
      std::this_thread::sleep_for(10ms);
    }
    // Up to 100 ms: long enough to fall between INSERTs, short enough that six rounds never load
    // everything (a round loads some 40k rows in that time on 2 cores).
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 100));
    ASSERT_EQ(::kill(pid, SIGKILL), 0) << "the loader ended before it was killed";
    EXPECT_EQ(WaitExit(pid, 10s), 128 + SIGKILL);
    WaitForInsertsToEnd();
    const int64_t after = RowsInserted();
    ASSERT_GT(after, before) << "the round inserted nothing before it was killed";
    ASSERT_LT(after, in_kafka) << "the round loaded everything before it was killed";
  }
  CommandResult last = Clickflow({"load", "--once", "--group", UniqueGroup("kill-last")});
  ASSERT_EQ(last.exit_code, 0) << last.output;
  EXPECT_NE(last.output.find("lag 0"), std::string::npos) << last.output;
  ExpectEveryOffsetExactlyOnce();
  EXPECT_GT(client_.QueryInt("SELECT count() FROM " + db_ + ".ingest_errors"), 0);
}

// The failpoint kills the loader after a batch's dead letters landed and before its staging
// rows did (the third such batch: the first two land whole). The rerun must insert that batch's
// staging rows without writing its dead letters again.
TEST_F(LoaderTest, CrashBetweenDeadLettersAndStagingRowsNeitherLosesNorRepeatsAnOffset) {
  ProduceGenerated(20'000, 14);  // 1% malformed lines: dead letters in every batch
  pid_t pid = StartLoader({"--once", "--group", UniqueGroup("failpoint")}, "loader-failpoint",
                          {{"CLICKFLOW_FAILPOINT", "loader.between_dead_letters_and_staging@3"},
                           {"CLICKFLOW_PIPELINE_BACKLOG_BATCH_SIZE", "1000"}});
  ASSERT_EQ(WaitExit(pid, 300s), 128 + SIGKILL) << "the loader did not stop at the failpoint";
  WaitForInsertsToEnd();
  EXPECT_GT(client_.QueryInt("SELECT count() FROM " + db_ + ".ingest_errors"), 0);
  EXPECT_GT(HolesBelowDeadLetters(), 0) << "no batch has its dead letters without its staging rows";
  EXPECT_LT(RowsInserted(), MessagesInKafka());

  CommandResult rerun = Clickflow({"load", "--once", "--group", UniqueGroup("failpoint-rerun")});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  ExpectEveryOffsetExactlyOnce();
}

// `ingest verify-load` as init_data_pipeline runs it: each topic's file produced between two
// `ingest offsets` readings, then loaded. It judges the offsets of that run only: a second run
// of the same files, produced and not loaded, fails although the tables hold as many rows as
// the files have lines (from the first run).
TEST_F(LoaderTest, VerifyLoadChecksTheOffsetsTheRunProduced) {
  const fs::path dir = fs::temp_directory_path() / ("clickflow-verify-" + std::to_string(::getpid()));
  CommandResult gen =
      Clickflow({"generate", "--out", dir.string(), "--events", "3000", "--seed", "15", "--malformed-rate", "0.01"});
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  // Produces every file as a load task of the DAG does; returns the ranges of all four topics.
  auto produce_run = [&] {
    std::string produced;
    for (const auto& schema : AllTopicSchemas()) {
      const std::string topic(schema.topic);
      CommandResult before = Clickflow({"ingest", "offsets", "--topic", topic});
      EXPECT_EQ(before.exit_code, 0) << before.output;
      CommandResult produce =
          Clickflow({"produce", "--topic", topic, "--file", (dir / TopicFileName(topic)).string(), "--no-progress"});
      EXPECT_EQ(produce.exit_code, 0) << produce.output;
      CommandResult since = Clickflow({"ingest", "offsets", "--topic", topic, "--since", before.output});
      EXPECT_EQ(since.exit_code, 0) << since.output;
      produced += since.output;
    }
    return produced;
  };
  auto verify = [&](const std::string& produced) {
    return Clickflow({"ingest", "verify-load", "--dir", dir.string(), "--produced", produced});
  };

  const std::string first = produce_run();
  ASSERT_EQ(Clickflow({"load", "--once", "--group", UniqueGroup("verify")}).exit_code, 0);
  CommandResult ok = verify(first);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;

  const std::string second = produce_run();
  CommandResult unloaded = verify(second);
  EXPECT_EQ(unloaded.exit_code, 1) << unloaded.output;
  for (const auto& schema : AllTopicSchemas()) {
    EXPECT_NE(unloaded.output.find("FAIL: " + std::string(schema.topic)), std::string::npos) << unloaded.output;
  }
  ASSERT_EQ(Clickflow({"load", "--once", "--group", UniqueGroup("verify-again")}).exit_code, 0);
  CommandResult loaded = verify(second);
  EXPECT_EQ(loaded.exit_code, 0) << loaded.output;
  EXPECT_EQ(verify("").exit_code, 1) << "a run that produced nothing did not load its files";
  ExpectEveryOffsetExactlyOnce();
  fs::remove_all(dir);
}

TEST_F(LoaderTest, OnceBesideFollowNeverLoadsAnOffsetTwice) {
  const std::string group = UniqueGroup("pair");
  pid_t follow = StartLoader({"--follow", "--group", group}, "loader-follow");
  std::this_thread::sleep_for(2s);
  ProduceGenerated(20'000, 12);
  CommandResult once = Clickflow({"load", "--once", "--group", group});
  ASSERT_EQ(once.exit_code, 0) << once.output;

  // The service finishes whatever the --once run did not own.
  const int64_t in_kafka = MessagesInKafka();
  for (int i = 0; i < 1200 && LoadedAndDistinct().second < in_kafka; ++i) std::this_thread::sleep_for(100ms);

  CommandResult metrics =
      RunProgram({"curl", "-sf", "http://127.0.0.1:" + std::to_string(StackConfig().stack.metrics_port) + "/metrics"});
  EXPECT_NE(metrics.output.find("clickflow_loader_rows_total"), std::string::npos) << metrics.output;

  ::kill(follow, SIGTERM);
  EXPECT_EQ(WaitExit(follow, 60s), 0);
  ExpectEveryOffsetExactlyOnce();
}

TEST_F(LoaderTest, ClickHouseAndKafkaKilledMidLoadLoseAndRepeatNothing) {
  ProduceGenerated(100'000, 13);
  for (const std::string victim : {"clickhouse", "kafka"}) {
    SCOPED_TRACE("victim: " + victim);
    SetUp();  // empty staging again, and a new group: load everything from the start
    const std::string group = UniqueGroup(victim);
    pid_t loader = StartLoader({"--once", "--group", group}, "loader-" + victim);
    std::this_thread::sleep_for(1500ms);
    const pid_t server = ComponentPid(victim);
    ASSERT_GT(server, 0);
    ::kill(server, SIGKILL);
    WaitHealthy(victim, server);
    int code = WaitExit(loader, 300s);
    if (code != 0) {
      // Kafka may have been down when the run began its group session: a --once run that ends
      // early is fine as long as a rerun completes exactly.
      CommandResult rerun = Clickflow({"load", "--once", "--group", group});
      ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
    }
    CommandResult finish = Clickflow({"load", "--once", "--group", group});
    ASSERT_EQ(finish.exit_code, 0) << finish.output;
    ExpectEveryOffsetExactlyOnce();
  }
}

// A message over pipeline.max_message_bytes goes to the dead letters, unparsed, with its size
// and the limit; batches flushed by pipeline.batch_max_bytes alone (rows and time set out of
// reach) still land every offset exactly once.
TEST_F(LoaderTest, OversizedMessageAndByteCappedBatchesLandEveryOffsetOnce) {
  ProduceGenerated(20'000, 14);

  // A valid browser event, longer than the limit only because of its user agent.
  const size_t max_message_bytes = 16 << 10;
  const std::string head =
      R"({"event_id":"oversized-1","event_timestamp":"2026-11-01 05:45:51","event_type":"pageview",)"
      R"("click_id":"c-oversized","browser_name":"Chrome","browser_user_agent":")";
  const std::string oversized = head + std::string(40'000, 'u') + R"("})";
  kafka::Admin admin(StackConfig().kafka.bootstrap_servers);
  const std::string topic = "browser_events";
  const int64_t oversized_offset = admin.Describe({topic}).at(0).partitions.at(0).high_watermark;
  const fs::path file = fs::temp_directory_path() / "clickflow-loader-oversized.jsonl";
  std::ofstream(file) << oversized << "\n";
  CommandResult produced = RunProgram(
      {"kcat", "-b", StackConfig().kafka.bootstrap_servers, "-P", "-t", topic, "-p", "0", "-l", file.string()});
  fs::remove(file);
  ASSERT_EQ(produced.exit_code, 0) << produced.output;

  // Every row's RowBinary holds at least its origin columns: _topic (a length byte and the
  // name), _partition (2), _offset (8), _ingested_at (4). The cap is set so that these alone
  // fill 16 batches; a batch holds less than the cap plus one row, i.e. less than twice the cap.
  int64_t lower_bound_bytes = 0;
  for (const auto& t : admin.Describe(TopicNames())) {
    for (const auto& p : t.partitions) {
      lower_bound_bytes += (p.high_watermark - p.low_watermark) * static_cast<int64_t>(t.name.size() + 1 + 2 + 8 + 4);
    }
  }
  const int64_t batch_max_bytes = std::max<int64_t>(lower_bound_bytes / 16, 64 << 10);
  const int64_t min_batches = lower_bound_bytes / (2 * batch_max_bytes);
  ASSERT_GE(min_batches, 8) << "too few messages in Kafka to fill batches";

  const std::map<std::string, std::string> env = {
      {"CLICKFLOW_PIPELINE_BATCH_MAX_BYTES", std::to_string(batch_max_bytes)},
      {"CLICKFLOW_PIPELINE_MAX_MESSAGE_BYTES", std::to_string(max_message_bytes)},
      {"CLICKFLOW_PIPELINE_BATCH_SIZE", "1000000"},
      {"CLICKFLOW_PIPELINE_BACKLOG_BATCH_SIZE", "1000000"},
      {"CLICKFLOW_PIPELINE_FLUSH_INTERVAL_MS", "3600000"},
  };
  CommandResult load = RunProgram(
      {CLICKFLOW_BINARY, "--config", StackConfig().source, "load", "--once", "--group", UniqueGroup("bytes")}, env);
  ASSERT_EQ(load.exit_code, 0) << load.output;
  const size_t at = load.output.find(" batches from ");
  ASSERT_NE(at, std::string::npos) << load.output;
  const int64_t batches = std::stoll(load.output.substr(load.output.rfind(' ', at - 1) + 1));
  EXPECT_GE(batches, min_batches) << load.output;

  ExpectEveryOffsetExactlyOnce();
  const std::string where = " FROM " + db_ + ".ingest_errors WHERE _topic = " + Quote(topic) +
                            " AND _partition = 0 AND _offset = " + std::to_string(oversized_offset);
  ASSERT_EQ(client_.QueryInt("SELECT count()" + where), 1) << "the oversized message is not a dead letter";
  const size_t kept = RowEncoder::kOversizedRawPrefix;  // ASCII: cut at the prefix size exactly
  EXPECT_EQ(client_.Query("SELECT error" + where, "TabSeparatedRaw"),
            "message of " + std::to_string(oversized.size()) + " bytes is over the limit of " +
                std::to_string(max_message_bytes) + " (pipeline.max_message_bytes); raw holds its first " +
                std::to_string(kept) + " bytes\n");
  EXPECT_EQ(client_.Query("SELECT raw" + where, "TabSeparatedRaw"), oversized.substr(0, kept) + "\n");
}

}  // namespace
}  // namespace clickflow
