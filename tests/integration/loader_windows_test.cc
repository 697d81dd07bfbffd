// The loader's windows that need a member to stall, a server to be slow or a crash between two
// INSERTs: a loader stopped (SIGSTOP) past its session while another takes over its partitions,
// an INSERT whose answer never came while the server was still applying it, and a `--once` run
// judging whether a half-landed batch of another member is loaded; and where the server has it,
// its insert deduplication of rows the loader sends a second time.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "clickhouse/server_version.h"
#include "ingest/offset_store.h"
#include "ingest/row_encoder.h"
#include "ingest/staging_writer.h"
#include "loader_fixture.h"
#include "slow_proxy.h"

namespace clickflow {
namespace {

using namespace std::chrono_literals;
using testing::Clickflow;
using testing::LoaderFixture;
using testing::StackConfig;
using testing::UniqueGroup;

class LoaderWindowsTest : public LoaderFixture {
 protected:
  static std::string ReadLog(const std::string& name) {
    std::ifstream in(LoaderLog(name));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Polls until the loaders have landed some rows but not all of `total`; false if that moment
  // was missed (everything landed first, or nothing within a minute).
  bool WaitForPartialLoad(int64_t total, int64_t& seen) {
    for (int i = 0; i < 1200; ++i) {
      seen = LoadedRows();
      if (seen > 0) return seen < total;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

// Two loaders of one group; the first is stopped while it loads, for longer than its session,
// so the group hands all partitions to the second, which finishes the topics. When the first
// continues, the batch it held must not land: the group coordinator refuses its commit (the
// fence), and the second waited for any INSERT of it that ClickHouse was still reading.
TEST_F(LoaderWindowsTest, LoaderStoppedPastItsSessionDoesNotInsertAfterTakeover) {
  ProduceGenerated(300'000, 21);
  const int64_t in_kafka = MessagesInKafka();
  const std::string group = UniqueGroup("stall");
  const std::map<std::string, std::string> env = {{"CLICKFLOW_KAFKA_SESSION_TIMEOUT_MS", "6000"}};
  const pid_t stalled = StartLoader({"--once", "--group", group}, "loader-stalled", env);
  int64_t at_stop = 0;
  const bool partial = WaitForPartialLoad(in_kafka, at_stop);
  ::kill(stalled, SIGSTOP);
  ASSERT_TRUE(partial) << "the loader was not stopped mid-load: " << at_stop << " of " << in_kafka << " rows";

  const pid_t takeover = StartLoader({"--once", "--group", group}, "loader-takeover", env);
  EXPECT_EQ(WaitExit(takeover, 300s), 0) << ReadLog("loader-takeover");
  const int64_t after_takeover = LoadedAndDistinct().second;
  EXPECT_EQ(after_takeover, in_kafka) << "the second loader did not finish the topics while the first was stopped";

  ::kill(stalled, SIGCONT);
  EXPECT_EQ(WaitExit(stalled, 300s), 0) << ReadLog("loader-stalled");
  ExpectEveryOffsetExactlyOnce();
  // The stopped loader did come back with work in hand and was turned away.
  const std::string log = ReadLog("loader-stalled");
  const bool fenced = log.find("gave this") != std::string::npos || log.find("refused") != std::string::npos;
  EXPECT_TRUE(fenced) << log;
}

// A proxy hands ClickHouse one large geo INSERT but its last bytes only 35 s later, past the
// loader's 30 s request timeout: the server has the INSERT running when the loader gives up on
// it. The retry must wait for it to end and then send only what did not land.
TEST_F(LoaderWindowsTest, InsertAppliedAfterTheClientTimedOutIsNotInsertedAgain) {
  ProduceGenerated(100'000, 22);
  const std::string url = StackConfig().clickhouse.url;
  const int clickhouse_port = std::stoi(url.substr(url.rfind(':') + 1));
  const std::string geo_table(FindTopicSchema("geo_events")->table);
  testing::SlowInsertProxy proxy(clickhouse_port, geo_table, 35s);
  const std::map<std::string, std::string> env = {
      {"CLICKFLOW_CLICKHOUSE_URL", "http://127.0.0.1:" + std::to_string(proxy.port())}};
  const pid_t loader = StartLoader({"--once", "--group", UniqueGroup("slow")}, "loader-slow", env);
  EXPECT_EQ(WaitExit(loader, 400s), 0) << ReadLog("loader-slow");
  ASSERT_EQ(proxy.held(), 1) << "no geo INSERT was large enough to hold";
  EXPECT_TRUE(proxy.delivered());
  ExpectEveryOffsetExactlyOnce();
  const std::string log = ReadLog("loader-slow");
  const std::string retried = "retrying the INSERT into " + geo_table;
  EXPECT_NE(log.find(retried), std::string::npos) << log;
}

// The writer's own partition check needs a consumer group; these rows belong to no topic read.
class NoGroupFence : public InsertFence {
 public:
  void Check() override {}
};

// Geo rows (valid lines) and dead letters of geo_events at the given (partition, offset)s, as
// the loader batches them.
StagingBatch GeoBatch(const std::vector<PartitionOffset>& rows, const std::vector<PartitionOffset>& dead_letters) {
  const TopicSchema& geo = *FindTopicSchema("geo_events");
  RowEncoder encoder(static_cast<size_t>(StackConfig().pipeline.max_message_bytes));
  StagingBatch batch;
  std::string error;
  for (const auto& [partition, offset] : rows) {
    const RowOrigin origin{geo.topic, static_cast<uint16_t>(partition), static_cast<uint64_t>(offset), 0};
    const std::string line = R"({"click_id":"c-)" + std::to_string(offset) + R"(","geo_country":"DE"})";
    TableRows& table = batch.staging[std::string(geo.topic)];
    EXPECT_TRUE(encoder.Encode(geo, line, origin, table.data, error)) << error;
    table.RowAdded(partition, offset);
  }
  for (const auto& [partition, offset] : dead_letters) {
    const RowOrigin origin{geo.topic, static_cast<uint16_t>(partition), static_cast<uint64_t>(offset), 0};
    TableRows& table = batch.dead_letters[std::string(geo.topic)];
    encoder.EncodeDeadLetter("{not json", "loader_windows_test", origin, table.data);
    table.RowAdded(partition, offset);
  }
  return batch;
}

// An attempt the loader gave up on may reach the server after its retry landed (it sat in a
// proxy or a socket buffer while the loader found no such query running and none of its rows
// landed), so the same rows are inserted twice. Where the server deduplicates inserts, the token
// naming the rows makes the second INSERT land nothing, although its _ingested_at differs; 18.16
// has no such thing and gets both copies (the loader's reconciliation is all it has).
TEST_F(LoaderWindowsTest, SameRowsInsertedTwiceLandOnceWhereTheServerDeduplicates) {
  const ServerVersion server = QueryServerVersion(client_);
  std::vector<PartitionOffset> rows;
  for (int32_t partition : {0, 1}) {
    for (int64_t offset = 0; offset < 10; ++offset) rows.emplace_back(partition, offset);
  }
  const std::vector<PartitionOffset> dead_letters = {{0, 10}, {2, 0}, {2, 1}};
  StagingBatch batch = GeoBatch(rows, dead_letters);

  const Config config = StackConfig();
  std::atomic<bool> stop{false}, closing{false};
  ClickHouseRetry retry(stop, closing);
  NoGroupFence fence;
  LoaderMetrics metrics;
  StagingWriter writer(config, retry, fence, metrics);
  writer.Prepare(batch);
  writer.Write(batch, 30s);
  const std::string first_attempt = batch.staging.at("geo_events").data;
  std::this_thread::sleep_for(1100ms);  // another second: the copies differ in _ingested_at
  writer.Write(batch, 30s);
  ASSERT_NE(batch.staging.at("geo_events").data, first_attempt) << "both INSERTs sent the same bytes";

  const int64_t copies = server.SupportsInsertDeduplication() ? 1 : 2;
  const std::string geo_table(FindTopicSchema("geo_events")->table);
  EXPECT_EQ(client_.QueryInt("SELECT count() FROM " + db_ + "." + geo_table), copies * std::ssize(rows))
      << "ClickHouse " << server.ToString();
  EXPECT_EQ(client_.QueryInt("SELECT count() FROM " + db_ + "." + std::string(kDeadLetterTable)),
            copies * std::ssize(dead_letters))
      << "ClickHouse " << server.ToString();
}

// When is a partition loaded, for a `--once` run judging partitions other members own? A member
// killed (or slow) between a batch's dead-letter INSERT and its staging INSERT leaves dead
// letters above the staging rows; if the batch ended in a malformed line, the highest dead
// letter is the partition's last offset. Only dead letters that fill the gap above the staging
// rows may count, or the run reports done with the batch's rows missing.
TEST_F(LoaderWindowsTest, DeadLettersCountAsLoadedOnlyWhenTheyLeaveNoHole) {
  const TopicSchema& geo = *FindTopicSchema("geo_events");
  auto insert = [&](const std::string& table, int32_t partition, std::vector<int64_t> offsets) {
    std::string values;
    for (int64_t offset : offsets) {
      values += (values.empty() ? "" : ",") + std::string("('geo_events',") + std::to_string(partition) + "," +
                std::to_string(offset) + ", now())";
    }
    // Stamped now: a server with TTL drops rows past the staging TTL as it writes them.
    client_.Execute("INSERT INTO " + db_ + "." + table + " (_topic, _partition, _offset, _ingested_at) VALUES " +
                    values);
  };
  std::vector<int64_t> first_ten{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  insert(std::string(geo.table), 0, first_ten);
  insert(std::string(kDeadLetterTable), 0, {3, 12, 14});  // a batch of 10..14 with only its dead letters landed
  insert(std::string(geo.table), 1, {0, 1, 2, 3, 4});
  insert(std::string(kDeadLetterTable), 1, {5, 6, 7, 7});  // a tail of malformed lines (one landed twice)
  insert(std::string(kDeadLetterTable), 2, {0, 1});        // nothing but malformed lines
  insert(std::string(kDeadLetterTable), 3, {1});           // offset 0's row is missing

  OffsetStore store(client_, db_);
  const auto loaded = store.LoadedUpTo(geo);
  EXPECT_EQ(loaded.at(0), 10);
  EXPECT_EQ(loaded.at(1), 8);
  EXPECT_EQ(loaded.at(2), 2);
  EXPECT_EQ(loaded.count(3) ? loaded.at(3) : 0, 0);
}

}  // namespace
}  // namespace clickflow
