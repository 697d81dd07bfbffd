#pragma once
// The loader tests' fixture: an empty staging area per test, data produced with an independent
// producer (kcat), loaders started as child processes, and the one check of the loader's
// promise: every (topic, partition, offset) Kafka holds is in staging or in the dead letters,
// exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "clickhouse/client.h"
#include "clickhouse/server_version.h"
#include "ingest/event_schema.h"
#include "kafka/admin.h"
#include "stack/state.h"
#include "test_env.h"

namespace clickflow::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string UniqueGroup(const std::string& name) {
  return "it-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));
}

class LoaderFixture : public ::testing::Test {
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

  // Nothing a loader test staged (rows written by hand, partial loads) is left for the suites
  // that run the quality checks on their own data afterwards.
  void TearDown() override {
    for (const auto& schema : AllTopicSchemas()) Truncate(std::string(schema.table));
    Truncate(std::string(kDeadLetterTable));
  }

  // 18.16 keeps truncated parts on disk for old_parts_lifetime and loads them again if it is
  // killed meanwhile; the kill tests must not see rows of an earlier test come back. 26.9 does
  // not bring them back (checked: TRUNCATE, kill -9, 0 rows), and keeps some outdated parts
  // long after ("Waiting for covered parts to be removed first"): nothing to wait for there.
  void WaitForOutdatedPartsRemoval() {
    if (!QueryServerVersion(client_).RestoresReplacedPartsAfterRestart()) return;
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

  // `clickflow load args...` in the background, its output in LoaderLog(log_name).
  pid_t StartLoader(const std::vector<std::string>& args, const std::string& log_name,
                    const std::map<std::string, std::string>& env = {}) {
    SpawnOptions s;
    s.argv = {CLICKFLOW_BINARY, "--config", StackConfig().source, "load"};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.env = env;
    s.log_file = LoaderLog(log_name);
    std::filesystem::remove(s.log_file);
    return Spawn(s);
  }

  static std::filesystem::path LoaderLog(const std::string& log_name) {
    return std::filesystem::temp_directory_path() / (log_name + ".log");
  }

  // Rows in the staging tables and dead letters: what the loaders have landed so far.
  int64_t LoadedRows() { return LoadedAndDistinct().first; }

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

}  // namespace clickflow::testing
