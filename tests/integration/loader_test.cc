// The loader's exactly-once promise against the real broker and server: kill -9 at random
// instants, a --once run beside a --follow service, ClickHouse and Kafka killed mid-load.
// The check is always the same: every (topic, partition, offset) Kafka holds is in staging or
// in the dead letters, exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "clickhouse/client.h"
#include "ingest/event_schema.h"
#include "ingest/row_encoder.h"
#include "kafka/admin.h"
#include "stack/state.h"
#include "test_env.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Clickflow;
using testing::RunProgram;
using testing::StackConfig;

std::string UniqueGroup(const std::string& name) {
  return "it-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));
}

class LoaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(Clickflow({"migrate"}).exit_code, 0);
    ASSERT_EQ(Clickflow({"topics", "create"}).exit_code, 0);
  }

  void SetUp() override {
    // A fresh staging area: with a new consumer group, the loader resumes from what ClickHouse
    // holds, i.e. from the start of every topic.
    for (const auto& schema : AllTopicSchemas()) Truncate(std::string(schema.table));
    Truncate(std::string(kDeadLetterTable));
    WaitForOutdatedPartsRemoval();
  }

  // ClickHouse keeps truncated parts on disk for old_parts_lifetime and loads them again if it
  // is killed meanwhile; the kill tests must not see rows of an earlier test come back.
  void WaitForOutdatedPartsRemoval() {
    const std::string sql = "SELECT count() FROM system.parts WHERE database = " + Quote(db_) + " AND NOT active";
    for (int i = 0; i < 600 && client_.QueryInt(sql) > 0; ++i) std::this_thread::sleep_for(100ms);
    ASSERT_EQ(client_.QueryInt(sql), 0) << "outdated parts were not removed";
  }

  void Truncate(const std::string& table) { client_.Execute("TRUNCATE TABLE " + db_ + "." + table); }

  // Generates events and sends each file to its topic with kcat (an independent producer).
  void ProduceGenerated(int events, int seed) {
    const fs::path dir = fs::temp_directory_path() / ("clickflow-loader-" + std::to_string(seed));
    CommandResult gen = Clickflow({"generate", "--out", dir.string(), "--events", std::to_string(events), "--seed",
                                   std::to_string(seed), "--malformed-rate", "0.01", "--duplicate-rate", "0.01"});
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    for (const auto& schema : AllTopicSchemas()) {
      const fs::path file = dir / (std::string(schema.topic) + ".jsonl");
      CommandResult r = RunProgram({"kcat", "-b", StackConfig().kafka.bootstrap_servers, "-P", "-t",
                                    std::string(schema.topic), "-l", file.string()});
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    fs::remove_all(dir);
  }

  int64_t MessagesInKafka() {
    kafka::Admin admin(StackConfig().kafka.bootstrap_servers);
    int64_t total = 0;
    for (const auto& topic : admin.Describe(TopicNames())) {
      for (const auto& p : topic.partitions) total += p.high_watermark - p.low_watermark;
    }
    return total;
  }

  // Rows in staging plus dead letters, and how many distinct (topic, partition, offset) they hold.
  std::pair<int64_t, int64_t> LoadedAndDistinct() {
    std::string all;
    for (const auto& schema : AllTopicSchemas()) {
      all += "SELECT _topic, _partition, _offset FROM " + db_ + "." + std::string(schema.table) + " UNION ALL ";
    }
    all += "SELECT _topic, _partition, _offset FROM " + db_ + ".ingest_errors";
    const std::string sql = "SELECT count(), uniqExact(_topic, _partition, _offset) FROM (" + all + ")";
    std::string answer = client_.Query(sql, "TabSeparated");
    int64_t count = std::stoll(answer);
    int64_t distinct = std::stoll(answer.substr(answer.find('\t') + 1));
    return {count, distinct};
  }

  // Per table and partition: how many offsets are there twice, their range, and a few of them
  // with the _ingested_at of each copy (which batches they came from).
  std::string DescribeDuplicates() {
    std::string out;
    std::vector<std::string> tables{std::string(kDeadLetterTable)};
    for (const auto& schema : AllTopicSchemas()) tables.emplace_back(schema.table);
    for (const auto& table : tables) {
      const std::string dups = "SELECT _topic, _partition, _offset, groupArray(_ingested_at) AS at FROM " + db_ + "." +
                               table + " GROUP BY _topic, _partition, _offset HAVING count() > 1";
      out += client_.Query("SELECT '" + table +
                               "', _topic, _partition, count(), min(_offset), max(_offset), "
                               "any(at) FROM (" +
                               dups + ") GROUP BY _topic, _partition ORDER BY _topic, _partition",
                           "TabSeparated");
    }
    return out;
  }

  void ExpectEveryOffsetExactlyOnce() {
    const int64_t in_kafka = MessagesInKafka();
    auto [loaded, distinct] = LoadedAndDistinct();
    EXPECT_EQ(loaded, distinct) << "some offset was loaded twice:\n" << DescribeDuplicates();
    EXPECT_EQ(distinct, in_kafka) << "some offset was lost";
    EXPECT_EQ(client_.QueryInt("SELECT count() FROM " + db_ + ".ingest_errors WHERE error = ''"), 0);
  }

  pid_t StartLoader(const std::vector<std::string>& args, const std::string& log_name) {
    SpawnOptions s;
    s.argv = {CLICKFLOW_BINARY, "--config", StackConfig().source, "load"};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.log_file = fs::temp_directory_path() / (log_name + ".log");
    return Spawn(s);
  }

  // Waits for a child to exit; returns its exit code (or -1 on timeout, after killing it).
  int WaitExit(pid_t pid, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto code = TryReap(pid)) return *code;
      std::this_thread::sleep_for(50ms);
    }
    Stop(pid, 1s);
    return -1;
  }

  pid_t ComponentPid(const std::string& name) {
    auto state = stack::ReadState(StackConfig().RunDir());
    for (const auto& c : state->components) {
      if (c.name == name) return c.pid;
    }
    return 0;
  }

  void WaitHealthy(const std::string& name, pid_t old_pid) {
    for (int i = 0; i < 600; ++i) {
      auto state = stack::ReadState(StackConfig().RunDir());
      for (const auto& c : state->components) {
        if (c.name == name && c.pid != old_pid && c.state == "healthy") return;
      }
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << name << " was not restarted by the supervisor";
  }

  ClickHouseClient client_{StackConfig().clickhouse};
  const std::string db_ = StackConfig().clickhouse.database;
};

TEST_F(LoaderTest, KillNineAtRandomInstantsNeitherLosesNorRepeatsAnOffset) {
  ProduceGenerated(200'000, 11);
  const std::string group = UniqueGroup("kill");
  std::mt19937 rng(12345);
  for (int round = 0; round < 6; ++round) {
    pid_t pid = StartLoader({"--once", "--group", group}, "loader-kill");
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1500));
    ::kill(pid, SIGKILL);
    WaitExit(pid, 10s);
  }
  CommandResult last = Clickflow({"load", "--once", "--group", group});
  ASSERT_EQ(last.exit_code, 0) << last.output;
  EXPECT_NE(last.output.find("lag 0"), std::string::npos) << last.output;
  ExpectEveryOffsetExactlyOnce();
  EXPECT_GT(client_.QueryInt("SELECT count() FROM " + db_ + ".ingest_errors"), 0);
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
