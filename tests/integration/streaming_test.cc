// Streaming mode (stack.streaming: true) on a stack of its own (the shared one loads with
// `load --once` in other suites, and two loaders in one group would split its partitions):
// produced events reach fact_events within seconds through the supervised `load --follow` and
// `dwh watch` services, and a Superset dashboard chart counts them; the loader service and the
// Kafka broker killed with -9 are restarted by the supervisor, and afterwards every event is in
// the warehouse exactly once.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "clickhouse/client.h"
#include "common/net.h"
#include "common/template.h"
#include "free_ports.h"
#include "ingest/event_schema.h"
#include "kafka/admin.h"
#include "stack/state.h"
#include "stack/superset_api.h"
#include "stack/superset_home.h"
#include "test_env.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class StreamingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("clickflow-streaming-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms(0755));  // service users must reach their folders
    Config c;
    c.data_dir = dir_ / "var";
    c.stack.deps_dir = testing::StackConfig().stack.deps_dir;
    testing::UseFreePorts(c);
    c.stack.airflow = false;
    c.stack.superset = true;  // the events must reach a dashboard chart
    c.stack.streaming = true;
    config_file_ = dir_ / "clickflow.yaml";
    WriteFile(config_file_, ToYaml(c));
    config_ = LoadConfig(config_file_.string());
    CommandResult up = Cf({"stack", "up"});
    ASSERT_EQ(up.exit_code, 0) << up.output;
    for (const char* name : {"loader", "dwh-watch"}) {
      ASSERT_NE(up.output.find(name), std::string::npos) << "no " << name << " service:\n" << up.output;
    }
  }

  static void TearDownTestSuite() {
    CommandResult down = Cf({"stack", "down"});
    EXPECT_EQ(down.exit_code, 0) << down.output;
    fs::remove_all(dir_);
  }

  static CommandResult Cf(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {CLICKFLOW_BINARY, "--config", config_file_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProgram(argv);
  }

  // Generates `events` clean events with `seed` and produces them; returns nothing but fails
  // the test on an error.
  static void GenerateAndProduce(int events, int seed) {
    const fs::path out = dir_ / ("gen-" + std::to_string(seed));
    CommandResult gen = Cf({"generate", "--out", out.string(), "--events", std::to_string(events), "--seed",
                            std::to_string(seed), "--days", "3", "--start", "2026-11-20 00:00:00"});
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    CommandResult produce = Cf({"produce", "--dir", out.string(), "--no-progress"});
    ASSERT_EQ(produce.exit_code, 0) << produce.output;
    produced_ += events;
  }

  // Messages Kafka holds per topic (high minus low watermark, summed over the partitions).
  static std::map<std::string, int64_t> MessagesPerTopic() {
    kafka::Admin admin(config_.kafka.bootstrap_servers);
    std::map<std::string, int64_t> out;
    for (const auto& topic : admin.Describe(TopicNames())) {
      for (const auto& p : topic.partitions) out[topic.name] += p.high_watermark - p.low_watermark;
    }
    return out;
  }

  // Distinct (partition, offset) of `topic` in its staging table and the dead letters.
  static int64_t OffsetsLoaded(ClickHouseClient& client, const TopicSchema& schema) {
    return client.QueryInt("SELECT uniqExact(_partition, _offset) FROM (SELECT _partition, _offset FROM analytics." +
                           std::string(schema.table) +
                           " UNION ALL SELECT _partition, _offset FROM analytics.ingest_errors WHERE _topic = " +
                           Quote(schema.topic) + ")");
  }

  // Waits until every message Kafka holds is in staging or the dead letters; returns the seconds
  // it took (or -1).
  static double WaitForEveryOffset(std::chrono::seconds limit) {
    const auto start = Clock::now();
    while (Clock::now() - start < limit) {
      try {
        ClickHouseClient client(config_.clickhouse);
        const auto in_kafka = MessagesPerTopic();
        bool all = true;
        for (const auto& schema : AllTopicSchemas()) {
          const auto it = in_kafka.find(std::string(schema.topic));
          all = all && it != in_kafka.end() && OffsetsLoaded(client, schema) >= it->second;
        }
        if (all) return std::chrono::duration<double>(Clock::now() - start).count();
      } catch (const Error&) {  // a server restarting
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return -1;
  }

  static int64_t Facts() {
    try {
      ClickHouseClient client(config_.clickhouse);
      return client.QueryInt("SELECT count() FROM analytics.fact_events");
    } catch (const Error&) {
      return -1;  // ClickHouse restarting
    }
  }

  // Waits until fact_events holds `want` rows; returns the seconds it took (or -1).
  static double WaitForFacts(int64_t want, std::chrono::seconds limit) {
    const auto start = Clock::now();
    while (Clock::now() - start < limit) {
      if (Facts() == want) return std::chrono::duration<double>(Clock::now() - start).count();
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return -1;
  }

  // The count of the "Total events" chart, as Superset's chart-data API computes it.
  static int64_t TotalEventsChart() {
    stack::SupersetApi api(stack::SupersetLocalUrl(config_), "admin", config_.stack.superset_password);
    const auto charts =
        nlohmann::json::parse(api.Get("/api/v1/chart/?q=(columns:!(id,slice_name),page_size:100)").body);
    int id = -1;
    for (const auto& c : charts["result"]) {
      if (c["slice_name"] == "Total events") id = c["id"].get<int>();
    }
    EXPECT_GE(id, 0) << charts.dump();
    const auto chart = nlohmann::json::parse(api.Get("/api/v1/chart/" + std::to_string(id)).body);
    auto context = nlohmann::json::parse(chart["result"]["query_context"].get<std::string>());
    context["force"] = true;
    const stack::SupersetApi::Response r = api.PostJson("/api/v1/chart/data", context.dump());
    EXPECT_EQ(r.status, 200) << r.body.substr(0, 500);
    const auto data = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200 || data.is_discarded()) return -1;
    return static_cast<int64_t>(data["result"][0]["data"][0]["count"].get<double>());
  }

  static stack::ComponentState Component(const std::string& name) {
    auto state = stack::ReadState(config_.RunDir());
    if (state) {
      for (const auto& c : state->components) {
        if (c.name == name) return c;
      }
    }
    return {};
  }

  // Kills the component with -9 and waits until the supervisor reports it healthy again.
  static void KillAndAwaitRestart(const std::string& name) {
    const stack::ComponentState before = Component(name);
    ASSERT_GT(before.pid, 0) << name;
    ASSERT_EQ(::kill(before.pid, SIGKILL), 0) << name;
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    stack::ComponentState now;
    while (Clock::now() < deadline) {
      now = Component(name);
      if (now.restarts > before.restarts && now.state == "healthy" && now.pid != before.pid) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_GT(now.restarts, before.restarts) << name << " was not restarted";
    EXPECT_EQ(now.state, "healthy") << name;
  }

  static inline fs::path dir_;
  static inline fs::path config_file_;
  static inline Config config_;
  static inline int64_t produced_ = 0;  // events generated and produced so far
};

TEST_F(StreamingTest, ProducedEventsReachTheWarehouseWithinSecondsAndLoadersSurviveKillNine) {
  // 1. Steady state: 5,000 events produced, built into fact_events by the services alone.
  GenerateAndProduce(5000, 101);
  const double first = WaitForFacts(produced_, std::chrono::seconds(120));
  ASSERT_GE(first, 0) << "fact_events has " << Facts() << " rows, want " << produced_;
  std::cout << produced_ << " produced events in fact_events after " << first << " s\n";

  // 2. The loader service killed with -9, then more events: the restarted loader resumes from
  //    the offsets recorded in ClickHouse.
  KillAndAwaitRestart("loader");
  GenerateAndProduce(5000, 102);
  // 3. The broker killed with -9 while the loader is consuming, then more events.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  KillAndAwaitRestart("kafka");
  GenerateAndProduce(5000, 103);

  ASSERT_GE(WaitForFacts(produced_, std::chrono::seconds(240)), 0) << "fact_events has " << Facts() << " rows";
  // fact_events counts browser events: the other topics' partitions may still be catching up
  // (after the broker restart the group rebalances), so wait until every offset Kafka holds is
  // loaded before comparing.
  const double caught_up = WaitForEveryOffset(std::chrono::seconds(180));
  ASSERT_GE(caught_up, 0) << "the loader did not catch up with Kafka";
  std::cout << "every offset of the four topics loaded " << caught_up << " s after fact_events\n";
  ClickHouseClient client(config_.clickhouse);
  EXPECT_EQ(client.QueryInt("SELECT uniqExact(event_id) FROM analytics.fact_events"), produced_);
  // Every Kafka message in staging or the dead letters exactly once: each produced event is one
  // message per topic (clean events: no dead letters), and the offsets are those Kafka holds.
  const auto in_kafka = MessagesPerTopic();
  EXPECT_EQ(client.QueryInt("SELECT count() FROM analytics.ingest_errors"), 0);
  for (const auto& schema : AllTopicSchemas()) {
    const std::string table(schema.table);
    EXPECT_EQ(client.QueryInt("SELECT count() - uniqExact(_topic, _partition, _offset) FROM analytics." + table), 0)
        << table;
    EXPECT_EQ(in_kafka.at(std::string(schema.topic)), produced_) << schema.topic;
    EXPECT_EQ(client.QueryInt("SELECT count() FROM analytics." + table), produced_) << table;
    EXPECT_EQ(OffsetsLoaded(client, schema), in_kafka.at(std::string(schema.topic))) << table;
  }
  // And a dashboard: the "Total events" chart of the Overview, through Superset's chart-data API
  // (force: computed now, not from Superset's cache), counts every event.
  EXPECT_EQ(TotalEventsChart(), produced_);

  // The status shows the loader caught up on every topic.
  CommandResult status = Cf({"stack", "status", "--json"});
  const auto doc = nlohmann::json::parse(status.output, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << status.output;
  ASSERT_EQ(doc["pipeline"]["topics"].size(), 4u) << status.output;
  for (const auto& t : doc["pipeline"]["topics"]) EXPECT_EQ(t["lag"], 0) << t.dump();
  EXPECT_EQ(doc["pipeline"]["facts"], produced_);
}

}  // namespace
}  // namespace clickflow
