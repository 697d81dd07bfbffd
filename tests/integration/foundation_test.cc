// The foundation against real servers: schema migrations, topics through Kafka itself and
// kcat, and the reference queries of docs/design.md#reference-queries on hand-written warehouse rows.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "clickhouse/client.h"
#include "ingest/event_schema.h"
#include "kafka/admin.h"
#include "test_env.h"

namespace clickflow {
namespace {

using testing::Clickflow;
using testing::RunProgram;
using testing::StackConfig;

class FoundationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    CommandResult r = Clickflow({"migrate"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  ClickHouseClient client_{StackConfig().clickhouse};
  const std::string db_ = StackConfig().clickhouse.database;
};

std::map<std::string, std::string> ShowCreateAll(ClickHouseClient& client, const std::string& db) {
  std::map<std::string, std::string> out;
  std::istringstream names(
      client.Query("SELECT name FROM system.tables WHERE database = " + Quote(db), "TabSeparated"));
  std::string name;
  while (std::getline(names, name)) out[name] = client.Query("SHOW CREATE TABLE " + db + "." + name, "TabSeparated");
  return out;
}

TEST_F(FoundationTest, MigrationsCreateTheWholeSchemaAndApplyingTwiceChangesNothing) {
  auto before = ShowCreateAll(client_, db_);
  for (const char* table : {"events_browser_raw", "events_device_raw", "events_geo_raw", "events_location_raw",
                            "ingest_errors", "fact_events", "dim_users", "dim_geo", "agg_events_hourly",
                            "agg_traffic_sources", "quality_results", "schema_migrations"}) {
    EXPECT_TRUE(before.count(table)) << table << " missing";
  }
  EXPECT_EQ(std::count_if(before.begin(), before.end(),
                          [](const auto& kv) { return kv.second.find("MATERIALIZED VIEW") != std::string::npos; }),
            2);
  const int64_t recorded = client_.QueryInt("SELECT count() FROM " + db_ + ".schema_migrations");

  CommandResult again = Clickflow({"migrate"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("schema up to date"), std::string::npos) << again.output;
  EXPECT_EQ(ShowCreateAll(client_, db_), before);
  EXPECT_EQ(client_.QueryInt("SELECT count() FROM " + db_ + ".schema_migrations"), recorded);
}

TEST_F(FoundationTest, TopicsHaveThreePartitionsAndSevenDaysRetentionAndCreatingAgainIsFine) {
  CommandResult first = Clickflow({"topics", "create"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  CommandResult second = Clickflow({"topics", "create"});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(std::count(second.output.begin(), second.output.end(), '\n'), 4);
  EXPECT_EQ(second.output.find("created"), std::string::npos) << second.output;

  // Through Kafka's own metadata and configs.
  kafka::Admin admin(StackConfig().kafka.bootstrap_servers);
  for (const auto& topic : admin.Describe(TopicNames())) {
    EXPECT_EQ(topic.partitions.size(), 3u) << topic.name;
    EXPECT_EQ(topic.configs.at("retention.ms"), "604800000") << topic.name;
  }

  // And through an independent client.
  CommandResult kcat = RunProgram({"kcat", "-b", StackConfig().kafka.bootstrap_servers, "-L"});
  ASSERT_EQ(kcat.exit_code, 0) << kcat.output;
  for (const auto& name : TopicNames()) {
    EXPECT_NE(kcat.output.find("topic \"" + name + "\" with 3 partitions"), std::string::npos) << kcat.output;
  }
}

TEST_F(FoundationTest, SeedQueriesRunVerbatimOnHandWrittenRows) {
  for (const char* t : {"fact_events", "fact_events_build", "agg_events_hourly", "agg_events_hourly_build",
                        "agg_traffic_sources", "agg_traffic_sources_build", "events_browser_raw"}) {
    client_.Execute("TRUNCATE TABLE " + db_ + "." + t);
  }
  // Staging accepts a hand-written row.
  client_.Execute("INSERT INTO " + db_ +
                  ".events_browser_raw (event_id, event_timestamp, event_type, click_id, "
                  "_topic, _partition, _offset, _ingested_at) VALUES ('e0', now(), 'pageview', 'c0', "
                  "'browser_events', 0, 0, now())");
  EXPECT_EQ(client_.QueryInt("SELECT count() FROM " + db_ + ".events_browser_raw"), 1);

  // Facts go in through the build table (which feeds the aggregate MVs) and are swapped in,
  // as the warehouse builder does. Events an hour ago, so the 24-hour query sees them.
  struct Row {
    const char *id, *type, *user, *country, *source, *campaign;
  };
  const Row rows[] = {{"e1", "pageview", "u1", "DE", "google", "campaign_1"},
                      {"e2", "pageview", "u1", "DE", "google", "campaign_1"},
                      {"e3", "click", "u2", "US", "facebook", "campaign_2"},
                      {"e4", "pageview", "u3", "US", "google", "campaign_2"},
                      {"e5", "pageview", "u3", "FR", "google", "campaign_1"}};
  std::string values;
  for (const auto& r : rows) {
    values += std::string(values.empty() ? "" : ",") + "('" + r.id +
              "', toStartOfHour(now()) - 3600, toDate(now() - 3600), "
              "toStartOfHour(now() - 3600), '" +
              r.type + "', '" + r.user + "', '" + r.country + "', '" + r.source + "', '" + r.campaign + "')";
  }
  client_.Execute("INSERT INTO " + db_ +
                  ".fact_events_build (event_id, event_timestamp, event_date, event_hour, "
                  "event_type, user_domain_id, geo_country, utm_source, utm_campaign) VALUES " +
                  values);
  const std::string day = client_.Query("SELECT toYYYYMMDD(now() - 3600)", "TabSeparated");
  for (const char* t : {"fact_events", "agg_events_hourly", "agg_traffic_sources"}) {
    client_.Execute("ALTER TABLE " + db_ + "." + t + " REPLACE PARTITION " + day.substr(0, 8) + " FROM " + db_ + "." +
                    t + "_build");
  }

  EXPECT_EQ(
      client_.Query("SELECT event_type, count() FROM analytics.fact_events GROUP BY event_type ORDER BY event_type",
                    "TabSeparated"),
      "click\t1\npageview\t4\n");
  EXPECT_EQ(client_.Query("SELECT geo_country, count() AS events FROM analytics.fact_events GROUP BY geo_country "
                          "ORDER BY events DESC, geo_country LIMIT 10",
                          "TabSeparated"),
            "DE\t2\nUS\t2\nFR\t1\n");
  EXPECT_EQ(client_.Query("SELECT utm_source, utm_campaign, countMerge(total_events) AS total_events, "
                          "uniqMerge(unique_users) AS unique_users FROM analytics.agg_traffic_sources "
                          "GROUP BY utm_source, utm_campaign ORDER BY total_events DESC, utm_source, utm_campaign",
                          "TabSeparated"),
            "google\tcampaign_1\t3\t2\nfacebook\tcampaign_2\t1\t1\ngoogle\tcampaign_2\t1\t1\n");
  const std::string hourly = client_.Query(
      "SELECT event_hour, event_type, countMerge(total_events) AS events, uniqMerge(unique_users) AS users "
      "FROM analytics.agg_events_hourly WHERE event_hour >= now() - INTERVAL 24 HOUR "
      "GROUP BY event_hour, event_type ORDER BY event_hour DESC",
      "TabSeparated");
  EXPECT_NE(hourly.find("\tpageview\t4\t2\n"), std::string::npos) << hourly;
  EXPECT_NE(hourly.find("\tclick\t1\t1\n"), std::string::npos) << hourly;
}

TEST_F(FoundationTest, SqlCommandPrintsTablesCsvAndJson) {
  CommandResult table = Clickflow({"sql", "SELECT 1 AS one, 'x' AS letter"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("one"), std::string::npos);
  CommandResult csv = Clickflow({"sql", "--format", "csv", "SELECT 1 AS one, 'x' AS letter"});
  EXPECT_NE(csv.output.find("\"one\",\"letter\""), std::string::npos) << csv.output;
  CommandResult bad = Clickflow({"sql", "SELECT * FROM no_such_table_here"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("60"), std::string::npos) << bad.output;
}

TEST_F(FoundationTest, StackStatusReportsEveryServerHealthy) {
  CommandResult status = Clickflow({"stack", "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  for (const char* name : {"postgres", "clickhouse", "kafka"}) {
    EXPECT_NE(status.output.find(std::string("\"name\": \"") + name + "\""), std::string::npos) << status.output;
  }
  EXPECT_EQ(status.output.find("\"state\": \"failed\""), std::string::npos) << status.output;
  // PostgreSQL has the two metadata databases.
  CommandResult psql =
      RunProgram({"psql", "-h", "127.0.0.1", "-p", std::to_string(StackConfig().stack.postgres_port), "-U",
                  StackConfig().stack.postgres_user, "-d", "postgres", "-tAc",
                  "SELECT datname FROM pg_database WHERE datname IN ('airflow','superset') ORDER BY 1"},
                 {{"PGPASSWORD", StackConfig().stack.postgres_password}});
  EXPECT_EQ(psql.output, "airflow\nsuperset\n");
}

// The supervisor's summary endpoint serves what `stack status --json` prints, and the same as
// Prometheus text.
TEST_F(FoundationTest, TheStatusEndpointServesTheStackSummaryAsJsonAndPrometheusText) {
  const std::string base = "http://127.0.0.1:" + std::to_string(StackConfig().stack.status_port);
  CommandResult status = RunProgram({"curl", "-sf", base + "/status"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  const auto doc = nlohmann::json::parse(status.output, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << status.output;
  EXPECT_EQ(doc["running"], true);
  EXPECT_EQ(doc["state"], "running");
  std::set<std::string> names;
  for (const auto& c : doc["components"]) names.insert(c["name"].get<std::string>());
  for (const char* name : {"postgres", "clickhouse", "kafka"}) EXPECT_TRUE(names.count(name)) << status.output;
  ASSERT_EQ(doc["pipeline"]["topics"].size(), 4u) << status.output;

  CommandResult metrics = RunProgram({"curl", "-sf", base + "/metrics"});
  ASSERT_EQ(metrics.exit_code, 0) << metrics.output;
  for (const char* line :
       {"clickflow_component_up{component=\"kafka\"} 1", "clickflow_component_up{component=\"clickhouse\"} 1",
        "clickflow_topic_lag_messages{topic=\"browser_events\"} ", "clickflow_fact_events_rows "}) {
    EXPECT_NE(metrics.output.find(line), std::string::npos) << line << "\n" << metrics.output;
  }
  EXPECT_NE(RunProgram({"curl", "-sf", base + "/nothing-here"}).exit_code, 0);
}

TEST_F(FoundationTest, TheDashboardsUserCanReadButNotWrite) {
  ClickHouseConfig readonly = StackConfig().clickhouse;
  readonly.user = readonly.readonly_user;
  readonly.password = readonly.readonly_password;
  ClickHouseClient dashboards(readonly);
  EXPECT_GE(dashboards.QueryInt("SELECT count() FROM " + db_ + ".fact_events"), 0);
  const std::vector<std::string> writes = {"INSERT INTO " + db_ + ".quality_results (run_id) VALUES ('x')",
                                           "DROP TABLE " + db_ + ".fact_events",
                                           "CREATE TABLE default.t (a UInt8) ENGINE = Memory"};
  for (const std::string& sql : writes) {
    try {
      dashboards.Execute(sql);
      ADD_FAILURE() << "read-only user ran: " << sql;
    } catch (const ClickHouseError& e) {
      EXPECT_EQ(e.code(), 164) << e.what();  // READONLY
    }
  }
  ClickHouseConfig wrong = readonly;
  wrong.password = "not-the-password";
  ClickHouseClient intruder(wrong);
  EXPECT_THROW(intruder.QueryInt("SELECT 1"), ClickHouseError);
}

}  // namespace
}  // namespace clickflow
