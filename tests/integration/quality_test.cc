// `clickflow quality run` against a real ClickHouse: a small, consistent dataset written
// directly (staging, facts, then aggregates and dimensions derived from the facts the way the
// warehouse build does), then one injected problem per test. Other suites share these tables,
// so every test starts by truncating them, and reads back only its own run id's rows.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "clickhouse/client.h"
#include "quality/quality_report.h"
#include "test_env.h"

namespace clickflow {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::system_clock;
using testing::Clickflow;
using testing::StackConfig;

constexpr int kChecksFailed = 2;

std::string Ago(system_clock::duration d) { return FormatUtc(system_clock::now() - d); }

class QualityTest : public ::testing::Test {
 protected:
  static constexpr const char* kTables[] = {"events_browser_raw",  "events_device_raw", "events_geo_raw",
                                            "events_location_raw", "fact_events",       "agg_events_hourly",
                                            "agg_traffic_sources", "dim_users",         "dim_geo",
                                            "dwh_build_state"};

  static void SetUpTestSuite() {
    CommandResult migrate = Clickflow({"migrate"});
    ASSERT_EQ(migrate.exit_code, 0) << migrate.output;
  }

  // The tests write rows no pipeline would (an empty country, a stale build): none may be left
  // for the suites that run the quality checks on real data afterwards.
  static void TearDownTestSuite() {
    ClickHouseClient client(StackConfig().clickhouse);
    for (const char* table : kTables) client.Execute("TRUNCATE TABLE " + Db(table));
  }

  void SetUp() override {
    client_ = std::make_unique<ClickHouseClient>(StackConfig().clickhouse);
    for (const char* table : kTables) client_->Execute("TRUNCATE TABLE " + Db(table));
    // 24 events of 4 users in 2 countries, an hour or two old, staged 10 minutes ago and
    // built 5 minutes ago; the dimensions were built after the facts. One INSERT per table.
    batching_ = true;
    for (int i = 0; i < 24; ++i) {
      AddEvent("ev-" + std::to_string(i), "click-" + std::to_string(i % 6), "user-" + std::to_string(i % 4),
               i % 2 ? "DE" : "FR", Ago(hours(1) + minutes(i)));
    }
    batching_ = false;
    for (const auto& [table, rows] : pending_) client_->Insert(Db(table), "JSONEachRow", rows);
    BuildDerivedTables();
  }

  static std::string Db(const std::string& table) { return StackConfig().clickhouse.database + "." + table; }

  void Insert(const std::string& table, const nlohmann::json& row) {
    if (batching_) {
      pending_[table] += row.dump() + "\n";
    } else {
      client_->Insert(Db(table), "JSONEachRow", row.dump() + "\n");
    }
  }

  // One event on every side: its four staging rows and its fact row.
  void AddEvent(const std::string& id, const std::string& click, const std::string& user, const std::string& country,
                const std::string& at) {
    const std::string ingested = Ago(minutes(10));
    Insert("events_browser_raw", {{"event_id", id},
                                  {"event_timestamp", at},
                                  {"event_type", "pageview"},
                                  {"click_id", click},
                                  {"_ingested_at", ingested}});
    Insert("events_location_raw",
           {{"event_id", id}, {"page_url_path", "/home"}, {"utm_source", "google"}, {"_ingested_at", ingested}});
    Insert("events_device_raw", {{"click_id", click}, {"user_domain_id", user}, {"_ingested_at", ingested}});
    Insert("events_geo_raw", {{"click_id", click}, {"geo_country", country}, {"_ingested_at", ingested}});
    AddFact(id, click, user, country, at);
  }

  void AddFact(const std::string& id, const std::string& click, const std::string& user, const std::string& country,
               const std::string& at, const std::string& built_at = Ago(minutes(5))) {
    Insert("fact_events", {{"event_id", id},
                           {"event_timestamp", at},
                           {"event_date", at.substr(0, 10)},
                           {"event_hour", at.substr(0, 13) + ":00:00"},
                           {"event_type", "pageview"},
                           {"click_id", click},
                           {"page_url_path", "/home"},
                           {"utm_source", "google"},
                           {"user_domain_id", user},
                           {"geo_country", country},
                           {"geo_region_name", country == "DE" ? "Berlin" : "Paris"},
                           {"_built_at", built_at}});
  }

  void BuildDerivedTables() {
    const std::string facts = Db("fact_events");
    client_->Execute("INSERT INTO " + Db("agg_events_hourly") +
                     " SELECT event_date, event_hour, event_type, countState(), uniqState(user_domain_id) "
                     "FROM " +
                     facts + " GROUP BY event_date, event_hour, event_type");
    client_->Execute("INSERT INTO " + Db("agg_traffic_sources") +
                     " SELECT event_date, utm_source, utm_medium, utm_campaign, countState(), "
                     "uniqState(user_domain_id) FROM " +
                     facts + " GROUP BY event_date, utm_source, utm_medium, utm_campaign");
    client_->Execute("INSERT INTO " + Db("dim_users") +
                     " SELECT user_domain_id, '', min(event_timestamp), max(event_timestamp), count(), '', '', "
                     "any(geo_country), now() FROM " +
                     facts + " WHERE user_domain_id != '' GROUP BY user_domain_id");
    client_->Execute("INSERT INTO " + Db("dim_geo") +
                     " SELECT geo_country, geo_region_name, '', 0, 0, uniq(user_domain_id), count(), now() FROM " +
                     facts + " WHERE geo_country != '' GROUP BY geo_country, geo_region_name");
  }

  struct Row {
    std::string table, status, details;
  };

  // The rows `check` recorded under `run_id`.
  std::vector<Row> Results(const std::string& run_id, const std::string& check) {
    std::string body = client_->Query("SELECT `table`, status, details FROM " + Db("quality_results") +
                                          " WHERE run_id = " + Quote(run_id) + " AND `check` = " + Quote(check) +
                                          " ORDER BY `table`, details",
                                      "JSONEachRow");
    std::vector<Row> rows;
    std::istringstream in(body);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      rows.push_back({j["table"].get<std::string>(), j["status"].get<std::string>(), j["details"].get<std::string>()});
    }
    return rows;
  }

  // The one row of `check` whose details contain `marker`.
  Row Find(const std::string& run_id, const std::string& check, const std::string& marker) {
    for (const Row& r : Results(run_id, check)) {
      if (r.details.find(marker) != std::string::npos) return r;
    }
    ADD_FAILURE() << check << ": no result mentions '" << marker << "'";
    return {};
  }

  std::string NewRunId() { return NewQualityRunId(system_clock::now()); }

  std::unique_ptr<ClickHouseClient> client_;
  bool batching_ = false;
  std::map<std::string, std::string> pending_;
};

TEST_F(QualityTest, CleanDatasetPassesEveryCheckAndReportListsThemAll) {
  const std::string run_id = NewRunId();
  const std::string report = ::testing::TempDir() + "/quality-clean.md";
  CommandResult r = Clickflow({"quality", "run", "--run-id", run_id, "--report", report});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const std::string& check : QualityCheckNames()) {
    auto rows = Results(run_id, check);
    EXPECT_FALSE(rows.empty()) << check;
    for (const Row& row : rows) EXPECT_EQ(row.status, "pass") << check << " " << row.table << ": " << row.details;
  }
  std::ifstream in(report);
  ASSERT_TRUE(in) << report;
  std::stringstream text;
  text << in.rdbuf();
  for (const std::string& check : QualityCheckNames()) {
    EXPECT_NE(text.str().find("| " + check + " | pass |"), std::string::npos) << check << "\n" << text.str();
  }
  EXPECT_NE(text.str().find("- Result: PASS ("), std::string::npos);
}

TEST_F(QualityTest, DuplicateEventInFactsFailsCheckDuplicates) {
  AddFact("ev-3", "click-3", "user-3", "DE", Ago(hours(1)));
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_duplicates", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, kChecksFailed) << r.output;
  Row fact = Find(run_id, "check_duplicates", "25 rows");
  EXPECT_EQ(fact.table, "fact_events");
  EXPECT_EQ(fact.status, "fail");
  EXPECT_NE(fact.details.find("1 duplicate event_id rows"), std::string::npos) << fact.details;
  EXPECT_NE(fact.details.find("e.g. ev-3"), std::string::npos) << fact.details;
}

TEST_F(QualityTest, DuplicateEventInStagingOnlyWarns) {
  Insert("events_browser_raw", {{"event_id", "ev-1"},
                                {"event_timestamp", Ago(hours(1))},
                                {"event_type", "pageview"},
                                {"click_id", "click-1"},
                                {"_ingested_at", Ago(minutes(10))}});
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_duplicates", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  Row staging = Find(run_id, "check_duplicates", "25 rows, 24 distinct");
  EXPECT_EQ(staging.table, "events_browser_raw");
  EXPECT_EQ(staging.status, "warn");
  EXPECT_NE(staging.details.find("1 duplicate event_id rows"), std::string::npos) << staging.details;
}

TEST_F(QualityTest, FactWithUnknownUserFailsReferentialIntegrity) {
  AddFact("ev-ghost", "click-ghost", "user-ghost", "DE", Ago(hours(1)));  // built before the dims
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_referential_integrity", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, kChecksFailed) << r.output;
  Row users = Find(run_id, "check_referential_integrity", "dim_users");
  EXPECT_EQ(users.status, "fail");
  EXPECT_NE(users.details.find("1 of 25 facts have a user_domain_id missing from dim_users"), std::string::npos)
      << users.details;
  EXPECT_NE(users.details.find("user-ghost"), std::string::npos) << users.details;
  EXPECT_EQ(Find(run_id, "check_referential_integrity", "dim_geo").status, "pass");
}

TEST_F(QualityTest, FactsBuiltAfterTheDimensionsAreNotJudgedYet) {
  // A fact build that finished after the last dimension build: its new user is not in
  // dim_users yet, and must not fail the check until the dimensions had their turn.
  AddFact("ev-new", "click-new", "user-new", "DE", Ago(hours(1)), FormatUtc(system_clock::now() + minutes(1)));
  const std::string run_id = NewRunId();
  Clickflow({"quality", "run", "--check", "check_referential_integrity", "--run-id", run_id});
  Row users = Find(run_id, "check_referential_integrity", "dim_users");
  EXPECT_EQ(users.status, "pass") << users.details;
  EXPECT_NE(users.details.find("not judged yet"), std::string::npos) << users.details;
}

TEST_F(QualityTest, AggregateMismatchFailsConsistencyNamingTheDay) {
  const std::string day = Ago(hours(1)).substr(0, 10);
  const int64_t facts_that_day =
      client_->QueryInt("SELECT count() FROM " + Db("fact_events") + " WHERE event_date = '" + day + "'");
  client_->Execute("INSERT INTO " + Db("agg_events_hourly") + " SELECT toDate('" + day + "'), toDateTime('" + day +
                   " 00:00:00'), 'click', "
                   "countState(), uniqState('') FROM system.one");
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_consistency", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, kChecksFailed) << r.output;
  Row hourly = Find(run_id, "check_consistency", "agg_events_hourly counts");
  EXPECT_EQ(hourly.status, "fail");
  EXPECT_NE(hourly.details.find("agg_events_hourly counts 25 events, fact_events has 24"), std::string::npos)
      << hourly.details;
  EXPECT_NE(hourly.details.find(day + " (" + std::to_string(facts_that_day + 1) + " vs " +
                                std::to_string(facts_that_day) + ")"),
            std::string::npos)
      << hourly.details;
  EXPECT_EQ(Find(run_id, "check_consistency", "agg_traffic_sources counts").status, "pass");
}

TEST_F(QualityTest, EventInTheFutureFailsConsistency) {
  AddEvent("ev-future", "click-0", "user-0", "FR", FormatUtc(system_clock::now() + hours(30)));
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_consistency", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, kChecksFailed) << r.output;
  Row future = Find(run_id, "check_consistency", "later than now");
  EXPECT_EQ(future.status, "fail");
  EXPECT_NE(future.details.find("1 events later than now + 5 min"), std::string::npos) << future.details;
  EXPECT_NE(future.details.find("ev-future"), std::string::npos) << future.details;
}

TEST_F(QualityTest, StagedEventMissingFromFactsFailsConsistency) {
  Insert("events_browser_raw", {{"event_id", "ev-lost"},
                                {"event_timestamp", Ago(hours(1))},
                                {"event_type", "click"},
                                {"click_id", "click-1"},
                                {"_ingested_at", Ago(minutes(10))}});
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_consistency", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, kChecksFailed) << r.output;
  Row staging = Find(run_id, "check_consistency", "missing from fact_events");
  EXPECT_EQ(staging.status, "fail");
  EXPECT_NE(staging.details.find("1 built event_ids missing from fact_events, e.g. ev-lost"), std::string::npos)
      << staging.details;
}

TEST_F(QualityTest, BuilderWatermarkCoversRowsStagedInItsLastSecond) {
  // The builder records the newest _ingested_at it covered, inclusive: a row staged in that
  // second must be in the facts.
  const std::string at = Ago(minutes(2));
  Insert("events_browser_raw", {{"event_id", "ev-lost"},
                                {"event_timestamp", Ago(hours(1))},
                                {"event_type", "click"},
                                {"click_id", "click-1"},
                                {"_ingested_at", at}});
  Insert("dwh_build_state", {{"component", "fact_events"}, {"watermark", at}, {"started_at", at}, {"finished_at", at}});
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_consistency", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, kChecksFailed) << r.output;
  Row staging = Find(run_id, "check_consistency", "missing from fact_events");
  EXPECT_NE(staging.details.find("(25 covered by the last build)"), std::string::npos) << staging.details;
  EXPECT_NE(staging.details.find("e.g. ev-lost"), std::string::npos) << staging.details;
}

TEST_F(QualityTest, MissingGeoAboveThresholdFailsCheckNulls) {
  for (int i = 0; i < 3; ++i) AddFact("ev-nogeo-" + std::to_string(i), "click-x", "user-1", "", Ago(hours(1)));
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_nulls", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, kChecksFailed) << r.output;
  Row geo = Find(run_id, "check_nulls", "missing geo");
  EXPECT_EQ(geo.status, "fail");
  EXPECT_NE(geo.details.find("3 of 27 facts have an empty geo_country"), std::string::npos) << geo.details;
  EXPECT_EQ(Find(run_id, "check_nulls", "missing device").status, "pass");
}

TEST_F(QualityTest, StaleIngestionFailsFreshnessButOldEventsOnlyWarn) {
  // Geo stopped arriving three hours ago; the only event is 40 days old.
  client_->Execute("TRUNCATE TABLE " + Db("events_geo_raw"));
  Insert("events_geo_raw", {{"click_id", "click-1"}, {"geo_country", "DE"}, {"_ingested_at", Ago(hours(3))}});
  client_->Execute("TRUNCATE TABLE " + Db("fact_events"));
  AddFact("ev-old", "click-1", "user-1", "DE", Ago(hours(24 * 40)));
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_freshness", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, kChecksFailed) << r.output;
  for (const Row& row : Results(run_id, "check_freshness")) {
    if (row.table == "events_geo_raw") {
      EXPECT_EQ(row.status, "fail") << row.details;
    } else if (row.details.starts_with("newest event")) {
      EXPECT_EQ(row.status, "warn") << row.details;
    } else {
      EXPECT_EQ(row.status, "pass") << row.table << ": " << row.details;
    }
  }
}

TEST_F(QualityTest, EmptyStagingBeforeAnyLoadWarnsThatNothingWasLoaded) {
  // The stack just started: nothing loaded, nothing built.
  const std::vector<std::string> staging = {"events_browser_raw", "events_device_raw", "events_geo_raw",
                                            "events_location_raw"};
  for (const std::string& table : staging) client_->Execute("TRUNCATE TABLE " + Db(table));
  client_->Execute("TRUNCATE TABLE " + Db("fact_events"));
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_freshness", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  size_t staging_warnings = 0;
  for (const Row& row : Results(run_id, "check_freshness")) {
    if (std::find(staging.begin(), staging.end(), row.table) != staging.end()) {
      EXPECT_EQ(row.status, "warn") << row.details;
      EXPECT_NE(row.details.find(row.table + ": no rows loaded yet"), std::string::npos) << row.details;
      ++staging_warnings;
    } else {
      EXPECT_NE(row.status, "fail") << row.table << ": " << row.details;
    }
  }
  EXPECT_EQ(staging_warnings, staging.size());
}

TEST_F(QualityTest, OldEventsLoadedJustNowWarnAsAReplayNotAFailure) {
  // The shipped samples: events of weeks ago, loaded ten minutes ago (AddEvent's _ingested_at).
  for (const char* table :
       {"events_browser_raw", "events_device_raw", "events_geo_raw", "events_location_raw", "fact_events"}) {
    client_->Execute("TRUNCATE TABLE " + Db(table));
  }
  const system_clock::time_point newest = system_clock::now() - hours(24 * 40);
  pending_.clear();
  batching_ = true;
  for (int i = 0; i < 5; ++i) {
    AddEvent("ev-old-" + std::to_string(i), "click-" + std::to_string(i), "user-" + std::to_string(i % 4),
             i % 2 ? "DE" : "FR", FormatUtc(newest - hours(i)));
  }
  batching_ = false;
  for (const auto& [table, rows] : pending_) client_->Insert(Db(table), "JSONEachRow", rows);
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--check", "check_freshness", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const double days = std::chrono::duration<double>(system_clock::now() - newest).count() / 86400;
  const std::string expected = "newest event " + FormatUtc(newest) + " UTC is " + fmt::format("{:.1f} days old", days);
  Row age = Find(run_id, "check_freshness", "newest event");
  EXPECT_EQ(age.table, "fact_events");
  EXPECT_EQ(age.status, "warn") << age.details;
  EXPECT_NE(age.details.find(expected), std::string::npos) << expected << "\n" << age.details;
  EXPECT_NE(age.details.find("a replay of old data"), std::string::npos) << age.details;
  EXPECT_NE(age.details.find("not an ingestion stop"), std::string::npos) << age.details;
  for (const Row& row : Results(run_id, "check_freshness")) {
    if (row.table != "fact_events") {
      EXPECT_EQ(row.status, "pass") << row.table << ": " << row.details;
    }
  }
}

TEST_F(QualityTest, ChecksRunAsSeparateTasksThenOneReportOverTheRun) {
  const std::string run_id = "scheduled__2026-11-29T10:00:00+00:00-" + NewRunId();
  for (const std::string& check : QualityCheckNames()) {
    CommandResult r = Clickflow({"quality", "run", "--check", check, "--run-id", run_id});
    EXPECT_EQ(r.exit_code, 0) << check << "\n" << r.output;
  }
  // A retried task records again under the same run id; the report counts its latest attempt.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // checked_at is in seconds
  EXPECT_EQ(Clickflow({"quality", "run", "--check", "check_nulls", "--run-id", run_id}).exit_code, 0);
  const std::string report = ::testing::TempDir() + "/quality-tasks.md";
  CommandResult r =
      Clickflow({"quality", "run", "--check", "generate_quality_report", "--run-id", run_id, "--report", report});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("- Run: `" + run_id + "`"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(report));
  EXPECT_NE(r.output.find("| check_nulls | pass | 8 | 0 | 0 |"), std::string::npos) << r.output;

  // A run where a task never recorded anything fails its report.
  const std::string partial = NewRunId();
  Clickflow({"quality", "run", "--check", "check_nulls", "--run-id", partial});
  r = Clickflow({"quality", "run", "--check", "generate_quality_report", "--run-id", partial});
  EXPECT_EQ(r.exit_code, kChecksFailed) << r.output;
  EXPECT_NE(r.output.find("| check_freshness | **not run**"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(DefaultReportPath(StackConfig(), partial)));
}

TEST_F(QualityTest, FullRunExitsNonZeroAndReportsTheFailure) {
  AddFact("ev-5", "click-5", "user-1", "DE", Ago(hours(1)));
  const std::string run_id = NewRunId();
  CommandResult r = Clickflow({"quality", "run", "--run-id", run_id});
  EXPECT_EQ(r.exit_code, kChecksFailed) << r.output;
  EXPECT_NE(r.output.find("- Result: **FAIL**"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| check_duplicates | **fail** |"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("quality checks failed: check_duplicates, check_consistency"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(DefaultReportPath(StackConfig(), run_id)));
}

}  // namespace
}  // namespace clickflow
