// The warehouse build against the shared stack: exact answers for the sample files, idempotent
// rebuilds, late data, a build killed with SIGKILL, and retention by partition age.
//
// Each test starts from empty staging and warehouse tables (other suites share this ClickHouse)
// and loads its own data through Kafka with `clickflow produce` and `clickflow load --once`.
// Expected values come straight from the JSONL files, computed here with nlohmann::json.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "clickflow_source_dir.h"
#include "clickhouse/client.h"
#include "clickhouse/server_version.h"
#include "test_env.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;
using testing::Clickflow;
using testing::StackConfig;
using Json = nlohmann::json;

const fs::path kSamples = fs::path(CLICKFLOW_SOURCE_DIR) / "data" / "samples";

ClickHouseClient& Client() {
  static ClickHouseClient* client = [] {
    auto* c = new ClickHouseClient(StackConfig().clickhouse);
    c->SetDefaultDatabase(StackConfig().clickhouse.database);
    return c;
  }();
  return *client;
}

std::string Cf(const std::vector<std::string>& args) {
  CommandResult r = Clickflow(args);
  EXPECT_EQ(r.exit_code, 0) << "clickflow " << ::testing::PrintToString(args) << "\n" << r.output;
  return r.output;
}

std::string Str(const std::string& sql) {
  std::string out = Client().Query(sql);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Rows of TabSeparated output as "a|b|c" strings, in server order.
std::vector<std::string> Rows(const std::string& sql) {
  std::vector<std::string> rows;
  std::istringstream in(Client().Query(sql));
  std::string line;
  while (std::getline(in, line)) {
    std::replace(line.begin(), line.end(), '\t', '|');
    rows.push_back(line);
  }
  return rows;
}

// Empty staging and warehouse, nothing pending in Kafka: what the next load reads is ours.
void Reset() {
  Cf({"migrate"});
  Cf({"topics", "create"});
  Cf({"load", "--once"});  // drain what earlier suites produced; the group commits past it
  for (const char* t :
       {"events_browser_raw", "events_device_raw", "events_geo_raw", "events_location_raw", "ingest_errors",
        "fact_events", "fact_events_build", "agg_events_hourly", "agg_events_hourly_build", "agg_traffic_sources",
        "agg_traffic_sources_build", "dim_users", "dim_users_build", "dim_geo", "dim_geo_build", "dwh_build_state"}) {
    Client().Execute(std::string("TRUNCATE TABLE ") + t);
  }
}

void LoadDir(const fs::path& dir) {
  Cf({"produce", "--dir", dir.string(), "--no-progress"});
  Cf({"load", "--once"});
}

void LoadLines(const std::string& topic, const std::vector<std::string>& lines) {
  const fs::path file = fs::temp_directory_path() / ("dwh_test_" + topic + ".jsonl");
  std::ofstream out(file);
  for (const auto& l : lines) out << l << "\n";
  out.close();
  Cf({"produce", "--topic", topic, "--file", file.string(), "--no-progress"});
  Cf({"load", "--once"});
  fs::remove(file);
}

// ---- Expected values from the JSONL files (the loader's rules: an object whose join keys,
// event_timestamp and event_type are non-empty strings; the latest line of a key wins). ----

std::vector<Json> ValidLines(const fs::path& file, const std::vector<std::string>& required) {
  std::vector<Json> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) continue;
    bool ok = true;
    for (const auto& k : required) ok = ok && j.contains(k) && j[k].is_string() && !j[k].get<std::string>().empty();
    if (ok) out.push_back(std::move(j));
  }
  return out;
}

// The date `days` before today, 'YYYY-MM-DD': generated data stays inside fact_events' TTL
// (365 days), which servers with TTL enforce.
std::string DaysAgo(int days) { return Str("SELECT toString(today() - " + std::to_string(days) + ")"); }

std::string S(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

struct Expected {
  std::map<std::string, Json> browser, location, device, geo;  // latest line per key
  std::map<std::string, uint64_t> by_type;
  std::map<std::string, uint64_t> by_country;
  std::map<std::string, std::pair<uint64_t, std::set<std::string>>> by_source_campaign;
  std::map<std::string, std::pair<uint64_t, std::set<std::string>>> by_hour_type;  // "2026-11-01 05:00:00|pageview"

  std::string User(const Json& b) const {
    auto d = device.find(S(b, "click_id"));
    return d == device.end() ? "" : S(d->second, "user_domain_id");
  }
};

Expected ExpectedFrom(const fs::path& dir) {
  Expected e;
  for (auto& j : ValidLines(dir / "browser_events.jsonl", {"event_id", "event_timestamp", "event_type", "click_id"})) {
    e.browser[S(j, "event_id")] = j;
  }
  for (auto& j : ValidLines(dir / "location_events.jsonl", {"event_id"})) e.location[S(j, "event_id")] = j;
  for (auto& j : ValidLines(dir / "device_events.jsonl", {"click_id"})) e.device[S(j, "click_id")] = j;
  for (auto& j : ValidLines(dir / "geo_events.jsonl", {"click_id"})) e.geo[S(j, "click_id")] = j;
  for (const auto& [id, b] : e.browser) {
    const std::string user = e.User(b);
    e.by_type[S(b, "event_type")]++;
    auto g = e.geo.find(S(b, "click_id"));
    e.by_country[g == e.geo.end() ? "" : S(g->second, "geo_country")]++;
    auto l = e.location.find(id);
    const std::string sc =
        l == e.location.end() ? "|" : S(l->second, "utm_source") + "|" + S(l->second, "utm_campaign");
    e.by_source_campaign[sc].first++;
    e.by_source_campaign[sc].second.insert(user);
    const std::string hour = S(b, "event_timestamp").substr(0, 13) + ":00:00|" + S(b, "event_type");
    e.by_hour_type[hour].first++;
    e.by_hour_type[hour].second.insert(user);
  }
  return e;
}

// Seed query 2's rows ("hour|type|events|users"), from agg_events_hourly; with `where`, only
// the rows it selects.
std::set<std::string> HourlyAnswers(const std::string& where) {
  const auto rows = Rows(
      "SELECT event_hour, event_type, countMerge(total_events) AS events, uniqMerge(unique_users) "
      "AS users FROM analytics.agg_events_hourly " +
      where + " GROUP BY event_hour, event_type ORDER BY event_hour DESC");
  return {rows.begin(), rows.end()};
}

// The same rows computed from the files, for the hours at or after `from_hour` ("" = all).
std::set<std::string> WantHourly(const Expected& e, const std::string& from_hour) {
  std::set<std::string> want;
  for (const auto& [ht, v] : e.by_hour_type) {
    if (ht.substr(0, 19) >= from_hour)
      want.insert(ht + "|" + std::to_string(v.first) + "|" + std::to_string(v.second.size()));
  }
  return want;
}

// Seed query 1's rows ("source|campaign|events|users") from agg_traffic_sources, and from the files.
std::set<std::string> TrafficAnswers() {
  const auto rows = Rows(
      "SELECT utm_source, utm_campaign, countMerge(total_events) AS total_events, uniqMerge(unique_users) AS "
      "unique_users FROM analytics.agg_traffic_sources GROUP BY utm_source, utm_campaign ORDER BY total_events DESC");
  return {rows.begin(), rows.end()};
}
std::set<std::string> WantTraffic(const Expected& e) {
  std::set<std::string> want;
  for (const auto& [sc, v] : e.by_source_campaign) {
    want.insert(sc + "|" + std::to_string(v.first) + "|" + std::to_string(v.second.size()));
  }
  return want;
}

// Everything but _built_at, so two builds of the same data compare equal.
std::string Fingerprint() {
  const std::string fact_cols =
      "event_id, event_timestamp, event_timestamp_us, event_date, event_hour, event_type, click_id, browser_name, "
      "browser_user_agent, browser_language, page_url, page_url_path, referer_url, referer_medium, utm_medium, "
      "utm_source, utm_content, utm_campaign, os, os_name, os_timezone, device_type, device_is_mobile, "
      "user_custom_id, user_domain_id, geo_latitude, geo_longitude, geo_country, geo_timezone, geo_region_name, "
      "ip_address";
  std::string out = Str("SELECT count(), sum(cityHash64(" + fact_cols + ")) FROM fact_events");
  out += " / " + Str("SELECT count(), sum(cityHash64(event_hour, event_type, e, u)) FROM (SELECT event_hour, "
                     "event_type, countMerge(total_events) AS e, uniqMerge(unique_users) AS u FROM agg_events_hourly "
                     "GROUP BY event_hour, event_type) AS a");
  out += " / " + Str("SELECT count(), sum(cityHash64(event_date, utm_source, utm_medium, utm_campaign, e, u)) FROM "
                     "(SELECT event_date, utm_source, utm_medium, utm_campaign, countMerge(total_events) AS e, "
                     "uniqMerge(unique_users) AS u FROM agg_traffic_sources GROUP BY event_date, utm_source, "
                     "utm_medium, utm_campaign) AS a");
  out += " / " + Str("SELECT count(), sum(cityHash64(user_domain_id, user_custom_id, first_seen, last_seen, events, "
                     "os_name, device_type, geo_country)) FROM dim_users");
  // Centroids are averages of 5-decimal coordinates: compared as the (integral) sums they
  // come from, since the last bits of a float average depend on the summation order.
  out += " / " + Str("SELECT count(), sum(cityHash64(geo_country, geo_region_name, geo_timezone, users, events, "
                     "toInt64(round(latitude * events * 100000)), toInt64(round(longitude * events * 100000)))) "
                     "FROM dim_geo");
  return out;
}

TEST(DwhTest, SampleFilesGiveTheSeedQueriesExactAnswers) {
  Reset();
  LoadDir(kSamples);
  const std::string out = Cf({"dwh", "build"});
  EXPECT_NE(out.find("verify: ok"), std::string::npos) << out;
  const Expected e = ExpectedFrom(kSamples);

  EXPECT_EQ(Str("SELECT count() FROM analytics.fact_events"), std::to_string(e.browser.size()));
  std::vector<std::string> by_type;
  for (const auto& [type, n] : e.by_type) by_type.push_back(type + "|" + std::to_string(n));
  EXPECT_EQ(Rows("SELECT event_type, count() FROM analytics.fact_events GROUP BY event_type ORDER BY event_type"),
            by_type);

  // Top 10 countries: every country returned has exactly its expected count, and the counts
  // are the 10 largest (ties at the boundary may pick either country).
  std::vector<uint64_t> counts;
  for (const auto& [c, n] : e.by_country) counts.push_back(n);
  std::sort(counts.rbegin(), counts.rend());
  const auto top = Rows(
      "SELECT geo_country, count() AS events FROM analytics.fact_events GROUP BY geo_country "
      "ORDER BY events DESC LIMIT 10");
  ASSERT_EQ(top.size(), std::min<size_t>(10, counts.size()));
  for (size_t i = 0; i < top.size(); ++i) {
    const std::string country = top[i].substr(0, top[i].find('|'));
    EXPECT_EQ(top[i], country + "|" + std::to_string(e.by_country.at(country)));
    EXPECT_EQ(top[i].substr(top[i].find('|') + 1), std::to_string(counts[i]));
  }

  // Seed query 1, verbatim; compared as a set (ORDER BY total_events has ties).
  EXPECT_EQ(TrafficAnswers(), WantTraffic(e));

  // Seed query 2 without its time filter (the samples' days are fixed; its 24-hour filter is
  // tested on recent events by TheLast24HoursQueryCountsExactlyTheEventsOfTheLast24Hours).
  EXPECT_EQ(HourlyAnswers(""), WantHourly(e, ""));

  // The dimensions agree with the files too.
  std::set<std::string> users;
  for (const auto& [id, b] : e.browser) {
    if (!e.User(b).empty()) users.insert(e.User(b));
  }
  EXPECT_EQ(Str("SELECT count() FROM analytics.dim_users"), std::to_string(users.size()));
  EXPECT_EQ(Str("SELECT sum(events) FROM analytics.dim_geo"),
            std::to_string(e.browser.size() - (e.by_country.count("") ? e.by_country.at("") : 0)));
}

TEST(DwhTest, RebuildingGivesIdenticalTables) {
  Reset();
  LoadDir(kSamples);
  Cf({"dwh", "build"});
  const std::string first = Fingerprint();
  Cf({"dwh", "build"});
  EXPECT_EQ(Fingerprint(), first);
  // One day per batch, each day in 2-6 event_id buckets (19-59 events a day): same tables.
  const std::string bucketed = Cf({"dwh", "build", "--full", "--batch-rows", "10"});
  EXPECT_NE(bucketed.find("event_id buckets"), std::string::npos) << bucketed;
  EXPECT_EQ(Fingerprint(), first);
  Cf({"dwh", "verify"});
}

TEST(DwhTest, LateRowsRebuildOnlyTheDaysTheyTouchAndWinOverOlderCopies) {
  Reset();
  LoadDir(kSamples);
  Cf({"dwh", "build"});
  const Expected e = ExpectedFrom(kSamples);

  // A: a late device row for an existing session changes its facts on the session's days.
  const Json& first = e.browser.begin()->second;
  const std::string click = S(first, "click_id");
  Json device = e.device.at(click);
  device["os_name"] = "LateOS";
  std::set<std::string> want_days;
  for (const auto& [id, b] : e.browser) {
    if (S(b, "click_id") == click) want_days.insert(S(b, "event_timestamp").substr(0, 10));
  }
  // _ingested_at has second resolution and the watermark is inclusive: on a fast machine the
  // bulk load above can share A's second, and B's build would then (safely, but not minimally)
  // rebuild every day. A second apart, the test sees exactly the days each step touches.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  LoadLines("device_events", {device.dump()});
  Cf({"dwh", "build", "--overlap-seconds", "0"});
  EXPECT_EQ(
      Str("SELECT countIf(os_name = 'LateOS') = count() FROM analytics.fact_events WHERE click_id = " + Quote(click)),
      "1");

  // B: a new event on another day. The next build starts from A's watermark, so it rebuilds
  // A's days and B's day, and nothing else.
  std::string other_day;
  for (const auto& [id, b] : e.browser) {
    const std::string day = S(b, "event_timestamp").substr(0, 10);
    if (!want_days.count(day)) {
      other_day = day;
      break;
    }
  }
  ASSERT_FALSE(other_day.empty());
  want_days.insert(other_day);
  const std::string id = "00000000-late-4000-8000-000000000001";
  LoadLines("browser_events", {Json{{"event_id", id},
                                    {"event_timestamp", other_day + " 12:34:56.500000"},
                                    {"event_type", "pageview"},
                                    {"click_id", "late-session"}}
                                   .dump()});
  LoadLines("location_events", {Json{{"event_id", id}, {"utm_source", "late"}, {"utm_campaign", "c"}}.dump()});
  const std::string out = Cf({"dwh", "build", "--overlap-seconds", "0"});

  std::string days_want;
  for (const auto& d : want_days) days_want += (days_want.empty() ? "" : ", ") + d;
  EXPECT_NE(out.find(fmt::format("facts: rebuilt {} day(s) ({})", want_days.size(), days_want)), std::string::npos)
      << out;
  EXPECT_EQ(Str("SELECT count() FROM analytics.fact_events"), std::to_string(e.browser.size() + 1));
  EXPECT_EQ(Str("SELECT utm_source FROM analytics.fact_events WHERE event_id = " + Quote(id)), "late");
  EXPECT_EQ(Str("SELECT countMerge(total_events) FROM analytics.agg_traffic_sources WHERE utm_source = 'late'"), "1");
  Cf({"dwh", "verify"});
}

// The streaming micro-build (`dwh build --append`, what `dwh watch` runs) must end with the
// tables a full rebuild gives, whatever arrived: new events (appended), a late side row and a
// newer copy of existing events (their days patched), duplicates, an event still missing
// its sides (held back within the grace period, appended without them after it).
TEST(DwhTest, AppendModeEndsWithTheTablesAFullRebuildGives) {
  Reset();
  const fs::path first = fs::temp_directory_path() / "dwh_test_append_a";
  const fs::path second = fs::temp_directory_path() / "dwh_test_append_b";
  const std::string start = DaysAgo(60), moved_day = DaysAgo(52), lonely_day = DaysAgo(59);
  for (const auto& [dir, seed] : {std::pair{first, "21"}, std::pair{second, "22"}}) {
    Cf({"generate", "--out", dir.string(), "--events", "20000", "--seed", seed, "--start", start, "--days", "4",
        "--duplicate-rate", "0.02", "--late-rate", "0.05"});
  }
  LoadDir(first);
  Cf({"dwh", "build"});
  const Expected e = ExpectedFrom(first);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the next rows are newer than the watermark

  // New events only: every one appended, no day rebuilt. The delta (the 20,000 new browser
  // rows, and the first ones too when their load falls in the overlap) is cut into event_id
  // buckets of at most 3,000.
  LoadDir(second);
  std::string out = Cf({"dwh", "build", "--step", "facts", "--append", "--batch-rows", "3000"});
  std::smatch buckets;
  ASSERT_TRUE(std::regex_search(out, buckets, std::regex(R"(delta of (\d+) browser rows in (\d+) event_id buckets)")))
      << out;
  EXPECT_GE(std::stoul(buckets[1]), 20000u);
  EXPECT_EQ(std::stoul(buckets[2]), (std::stoul(buckets[1]) + 2999) / 3000);
  EXPECT_NE(out.find(", patched 0 day(s), rebuilt 0 day(s) whole"), std::string::npos) << out;
  EXPECT_EQ(out.find("appended to 0 day(s)"), std::string::npos) << out;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  // A late device row for an existing session, an existing event moved to a day of its own,
  // and an event whose location, device and geo rows have not arrived.
  const Json& session = e.browser.begin()->second;
  Json device = e.device.at(S(session, "click_id"));
  device["os_name"] = "LateOS";
  LoadLines("device_events", {device.dump()});
  Json moved = std::next(e.browser.begin(), 7)->second;
  moved["event_timestamp"] = moved_day + " 08:00:00.000001";
  LoadLines("browser_events", {moved.dump()});
  const std::string lonely = "00000000-lone-4000-8000-000000000001";
  LoadLines("browser_events", {Json{{"event_id", lonely},
                                    {"event_timestamp", lonely_day + " 10:00:00.000000"},
                                    {"event_type", "pageview"},
                                    {"click_id", "lonely-session"}}
                                   .dump()});

  // Within the grace period the lonely event waits; everything else is in.
  out = Cf({"dwh", "build", "--step", "facts", "--append", "--append-grace-seconds", "3600"});
  EXPECT_EQ(out.find(", patched 0 day(s)"), std::string::npos) << out;
  EXPECT_NE(out.find(", rebuilt 0 day(s) whole"), std::string::npos) << out;
  EXPECT_EQ(Str("SELECT count() FROM analytics.fact_events WHERE event_id = " + Quote(lonely)), "0");
  EXPECT_EQ(Str("SELECT countIf(os_name = 'LateOS') = count() FROM analytics.fact_events WHERE click_id = " +
                Quote(S(session, "click_id"))),
            "1");
  EXPECT_EQ(
      Str("SELECT toString(event_date) FROM analytics.fact_events WHERE event_id = " + Quote(S(moved, "event_id"))),
      moved_day);
  Cf({"dwh", "users"});
  Cf({"dwh", "geo"});
  Cf({"dwh", "verify"});  // aggregates exactly consistent with the facts after appends

  // After it, the lonely event is appended without its sides, and the tables equal a full
  // rebuild's (dimensions rebuilt the same way on both sides of the comparison).
  Cf({"dwh", "build", "--step", "facts", "--append", "--append-grace-seconds", "0"});
  EXPECT_EQ(Str("SELECT count() FROM analytics.fact_events WHERE event_id = " + Quote(lonely)), "1");
  Cf({"dwh", "users"});
  Cf({"dwh", "geo"});
  const std::string appended = Fingerprint();
  Cf({"dwh", "build", "--full"});
  EXPECT_EQ(appended, Fingerprint());
  Cf({"dwh", "verify"});
  fs::remove_all(first);
  fs::remove_all(second);
}

// On 18.16 a background merge that was running when REPLACE PARTITION swapped a day commits
// its merged part anyway, and the day's old rows come back beside the new ones (seen in the CI
// soak). The next micro-build cycle must notice that the day no longer matches its build twin
// and rebuild it, even with nothing new to append.
TEST(DwhTest, AnAppendCycleRebuildsADayWhoseFactsAreOutOfStepWithItsTwin) {
  Reset();
  LoadDir(kSamples);
  Cf({"dwh", "build"});
  const Expected e = ExpectedFrom(kSamples);
  const std::string day = S(e.browser.begin()->second, "event_timestamp").substr(0, 10);
  Client().Execute("INSERT INTO fact_events SELECT * FROM fact_events WHERE event_date = '" + day + "'");
  ASSERT_NE(Str("SELECT count() - uniqExact(event_id) FROM fact_events"), "0");

  const std::string out = Cf({"dwh", "build", "--step", "facts", "--append"});
  EXPECT_NE(out.find(day + " of fact_events has "), std::string::npos) << out;
  EXPECT_NE(out.find("in its build twin: rebuilding it whole"), std::string::npos) << out;
  EXPECT_EQ(Str("SELECT count() - uniqExact(event_id) FROM fact_events"), "0");
  EXPECT_EQ(Str("SELECT count() FROM fact_events"), std::to_string(e.browser.size()));
  Cf({"dwh", "users"});
  Cf({"dwh", "geo"});
  Cf({"dwh", "verify"});
}

// Seed queries 1 and 2, fact_events and the dimensions all give what the sample files say.
void ExpectTheSampleAnswers(const Expected& e, const std::string& context) {
  SCOPED_TRACE(context);
  EXPECT_EQ(HourlyAnswers(""), WantHourly(e, ""));
  EXPECT_EQ(TrafficAnswers(), WantTraffic(e));
  EXPECT_EQ(Str("SELECT count() FROM fact_events"), std::to_string(e.browser.size()));
  EXPECT_EQ(Str("SELECT count() - uniqExact(event_id) FROM fact_events"), "0");
  std::set<std::string> users;
  for (const auto& [id, b] : e.browser) {
    if (!e.User(b).empty()) users.insert(e.User(b));
  }
  EXPECT_EQ(Str("SELECT count() FROM dim_users"), std::to_string(users.size()));
  EXPECT_EQ(Str("SELECT sum(events) FROM dim_geo"),
            std::to_string(e.browser.size() - (e.by_country.count("") ? e.by_country.at("") : 0)));
}

// What a merge that ran across REPLACE PARTITION leaves in an aggregate (dwh_guard.h): the
// day's old rows back beside the new ones, here a copy of the day's rows. Returns the day.
std::string DoubleADayOfTheAggregates(const Expected& e) {
  const std::string day = S(e.browser.begin()->second, "event_timestamp").substr(0, 10);
  for (const char* agg : {"agg_events_hourly", "agg_traffic_sources"}) {
    Client().Execute(fmt::format("INSERT INTO {0} SELECT * FROM {0} WHERE event_date = '{1}'", agg, day));
  }
  EXPECT_NE(HourlyAnswers(""), WantHourly(e, ""));
  EXPECT_NE(TrafficAnswers(), WantTraffic(e));
  return day;
}

// The same for the dimensions, whose one partition a merge can bring back the same way.
void DoubleTheDimensions() {
  for (const char* dim : {"dim_users", "dim_geo"})
    Client().Execute(fmt::format("INSERT INTO {0} SELECT * FROM {0}", dim));
}

// Every build path repairs a doubled aggregate day and doubled dimensions in its next cycle,
// with nothing new in staging: the micro-build of `dwh watch` (--append) and the DAG's
// `dwh facts`, then both again once retention has cleared the day's staging (the repair must
// neither empty the day nor copy the doubled facts back into the twin).
TEST(DwhTest, EveryBuildPathRepairsAggregatesAndDimensionsAMergeBroughtRowsBackTo) {
  Reset();
  LoadDir(kSamples);
  Cf({"dwh", "build"});
  const Expected ex = ExpectedFrom(kSamples);
  ExpectTheSampleAnswers(ex, "after the build");
  for (const std::vector<std::string>& cycle : {std::vector<std::string>{"dwh", "build", "--step", "facts", "--append"},
                                                std::vector<std::string>{"dwh", "facts"}}) {
    const std::string day = DoubleADayOfTheAggregates(ex);
    DoubleTheDimensions();
    const std::string out = Cf(cycle);
    EXPECT_NE(out.find(day + " of agg_events_hourly has "), std::string::npos) << out;
    EXPECT_NE(out.find(day + " of agg_traffic_sources has "), std::string::npos) << out;
    EXPECT_NE(out.find("dim_users was out of step: rebuilt"), std::string::npos) << out;
    EXPECT_NE(out.find("dim_geo was out of step: rebuilt"), std::string::npos) << out;
    ExpectTheSampleAnswers(ex, cycle.back());
  }

  // What retention does before it drops staging partitions, then lose all browser staging:
  // the facts now live in fact_events only.
  Client().Execute(
      "INSERT INTO dwh_build_state (component, watermark, days, rows_built, started_at, finished_at) "
      "SELECT 'staging_dropped', now(), emptyArrayDate(), 0, now(), now()");
  Client().Execute("TRUNCATE TABLE events_browser_raw");
  for (const std::vector<std::string>& cycle : {std::vector<std::string>{"dwh", "build", "--step", "facts", "--append"},
                                                std::vector<std::string>{"dwh", "facts"}}) {
    const std::string day = DoubleADayOfTheAggregates(ex);
    Client().Execute("INSERT INTO fact_events SELECT * FROM fact_events WHERE event_date = '" + day + "'");
    const std::string out = Cf(cycle);
    EXPECT_NE(out.find(day + " of fact_events has "), std::string::npos) << out;
    ExpectTheSampleAnswers(ex, cycle.back() + " after staging was cleared");
    // The twin holds what fact_events holds: the next cycle finds nothing to repair.
    EXPECT_EQ(Cf(cycle).find("in its build twin"), std::string::npos);
  }
  Cf({"dwh", "verify"});
}

// `dwh optimize` merges the partitions builds swap: it waits for the warehouse lock like them.
TEST(DwhTest, OptimizeWaitsForTheWarehouseLock) {
  Reset();
  LoadDir(kSamples);
  Cf({"dwh", "build"});
  const fs::path lock_path = StackConfig().RunDir() / "dwh.lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << lock_path;
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0) << "a build holds " << lock_path;

  SpawnOptions s;
  s.argv = {CLICKFLOW_BINARY, "--config", StackConfig().source, "dwh", "optimize"};
  s.log_file = fs::temp_directory_path() / "dwh_test_optimize.log";
  fs::remove(s.log_file);
  s.new_session = false;
  const pid_t pid = Spawn(s);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const std::optional<int> early = TryReap(pid);
  auto log = [&] {
    std::ifstream in(s.log_file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_FALSE(early.has_value()) << "optimize ran while the lock was held:\n" << log();
  EXPECT_NE(log().find("waiting for another warehouse build"), std::string::npos) << log();
  EXPECT_EQ(log().find("optimize: merged"), std::string::npos) << log();

  ::close(fd);  // releases the flock
  std::optional<int> code = early;
  for (int i = 0; i < 600 && !code; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    code = TryReap(pid);
  }
  ASSERT_TRUE(code.has_value()) << log();
  EXPECT_EQ(*code, 0) << log();
  EXPECT_NE(log().find("optimize: merged"), std::string::npos) << log();
  fs::remove(s.log_file);
}

// Seed query 2 verbatim on events of the last 24 hours and older ones: it returns exactly the
// hours inside the window, counted as the files count them.
TEST(DwhTest, TheLast24HoursQueryCountsExactlyTheEventsOfTheLast24Hours) {
  Reset();
  const auto now = std::chrono::system_clock::now();
  auto utc = [](std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return std::string(buf);
  };
  // Hours well inside and well outside the window, so neither the clock nor an hour boundary
  // passing during the test moves an event across it.
  const fs::path dir = fs::temp_directory_path() / "dwh_test_24h";
  fs::create_directories(dir);
  std::ofstream browser(dir / "browser_events.jsonl"), device(dir / "device_events.jsonl");
  int n = 0;
  for (int hours_ago : {1, 5, 20, 30, 47}) {
    for (int i = 0; i <= hours_ago % 4; ++i, ++n) {
      const std::string click = fmt::format("24h-click-{}", n % 3);
      browser << Json{{"event_id", fmt::format("00000000-24h0-4000-8000-{:012d}", n)},
                      {"event_timestamp", utc(now - std::chrono::hours(hours_ago)) + ".000000"},
                      {"event_type", i % 2 ? "click" : "pageview"},
                      {"click_id", click}}
                     .dump()
              << "\n";
    }
  }
  for (int c = 0; c < 2; ++c) {
    device
        << Json{{"click_id", fmt::format("24h-click-{}", c)}, {"user_domain_id", fmt::format("24h-user-{}", c)}}.dump()
        << "\n";
  }
  browser.close();
  device.close();
  std::ofstream(dir / "location_events.jsonl").close();  // produce --dir wants all four files
  std::ofstream(dir / "geo_events.jsonl").close();
  LoadDir(dir);
  Cf({"dwh", "build"});
  const Expected e = ExpectedFrom(dir);
  const std::string cutoff = utc(now - std::chrono::hours(24));
  const std::set<std::string> want = WantHourly(e, cutoff);
  ASSERT_FALSE(want.empty());
  ASSERT_NE(want, WantHourly(e, ""));  // some hours are older than the window
  EXPECT_EQ(HourlyAnswers("WHERE event_hour >= now() - INTERVAL 24 HOUR"), want);
  EXPECT_EQ(HourlyAnswers(""), WantHourly(e, ""));
  fs::remove_all(dir);
}

std::string BuildUntilKilled(const std::vector<std::string>& args, double seconds) {
  SpawnOptions s;
  s.argv = {CLICKFLOW_BINARY, "--config", StackConfig().source};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.log_file = fs::temp_directory_path() / "dwh_test_killed_build.log";
  s.new_session = false;
  const pid_t pid = Spawn(s);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 100 && !TryReap(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return s.log_file.string();
}

TEST(DwhTest, ABuildKilledMidwayAndRerunGivesTheSameTables) {
  Reset();
  const fs::path dir = fs::temp_directory_path() / "dwh_test_200k";
  Cf({"generate", "--out", dir.string(), "--events", "200000", "--seed", "11", "--start", DaysAgo(30),
      "--duplicate-rate", "0.01", "--late-rate", "0.02"});
  LoadDir(dir);
  const std::vector<std::string> build = {"dwh", "build", "--full", "--batch-rows", "20000"};

  const auto start = std::chrono::steady_clock::now();
  Cf(build);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string want = Fingerprint();

  // Kill at several points of a build (inside an INSERT, between swaps), each time leaving
  // whatever half-done state there is, then rerun the same command once.
  std::string log;
  for (double fraction : {0.3, 0.6, 0.85}) log = BuildUntilKilled(build, took * fraction);
  fs::remove(log);
  Cf(build);
  EXPECT_EQ(Fingerprint(), want);
  Cf({"dwh", "verify"});
  fs::remove_all(dir);
}

TEST(DwhTest, FactsWhoseStagingWasDroppedSurviveARebuildOfTheirDay) {
  Reset();
  LoadDir(kSamples);
  Cf({"dwh", "build"});
  const Expected e = ExpectedFrom(kSamples);
  const std::string day = S(e.browser.begin()->second, "event_timestamp").substr(0, 10);
  const std::string before = Str("SELECT count() FROM fact_events WHERE event_date = '" + day + "'");
  // What retention does before it drops staging partitions, then lose all browser staging.
  Client().Execute(
      "INSERT INTO dwh_build_state (component, watermark, days, rows_built, started_at, finished_at) "
      "SELECT 'staging_dropped', now(), emptyArrayDate(), 0, now(), now()");
  Client().Execute("TRUNCATE TABLE events_browser_raw");
  LoadLines("browser_events", {Json{{"event_id", "00000000-late-4000-8000-000000000002"},
                                    {"event_timestamp", day + " 01:02:03.000000"},
                                    {"event_type", "click"},
                                    {"click_id", "late-session"}}
                                   .dump()});
  const std::string out = Cf({"dwh", "build", "--overlap-seconds", "0"});
  EXPECT_NE(out.find("rebuilt 1 day(s) (" + day + ")"), std::string::npos) << out;
  EXPECT_EQ(Str("SELECT count() FROM fact_events WHERE event_date = '" + day + "'"),
            std::to_string(std::stoull(before) + 1));
  EXPECT_EQ(Str("SELECT count() FROM fact_events"), std::to_string(e.browser.size() + 1));
  Cf({"dwh", "verify"});

  // Append mode too: a new copy of an event whose staging is gone must replace its fact (found
  // on whatever day), not be appended beside it; a new event is appended.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const Json& gone = std::next(e.browser.begin(), 3)->second;
  Json copy = gone;
  copy["event_type"] = "replayed";
  LoadLines("browser_events", {copy.dump(), Json{{"event_id", "00000000-late-4000-8000-000000000003"},
                                                 {"event_timestamp", day + " 02:03:04.000000"},
                                                 {"event_type", "click"},
                                                 {"click_id", "late-session"}}
                                                .dump()});
  Cf({"dwh", "build", "--step", "facts", "--append", "--append-grace-seconds", "0"});
  EXPECT_EQ(Str("SELECT groupArray(event_type) FROM fact_events WHERE event_id = " + Quote(S(gone, "event_id"))),
            "['replayed']");
  EXPECT_EQ(Str("SELECT count() FROM fact_events"), std::to_string(e.browser.size() + 2));
  EXPECT_EQ(Str("SELECT count() - uniqExact(event_id) FROM fact_events"), "0");
  Cf({"dwh", "users"});
  Cf({"dwh", "geo"});
  Cf({"dwh", "verify"});
}

// The partitions of `table` that hold rows (a server with TTL leaves an empty active part where
// its TTL removed every row).
std::set<std::string> Partitions(const std::string& table) {
  auto rows =
      Rows("SELECT DISTINCT partition FROM system.parts WHERE database = " + Quote(StackConfig().clickhouse.database) +
           " AND table = " + Quote(table) + " AND active AND rows > 0");
  return {rows.begin(), rows.end()};
}

TEST(DwhTest, RetentionDropsExactlyThePartitionsPastTheirAge) {
  Reset();
  LoadDir(kSamples);
  Cf({"dwh", "build"});
  const Expected e = ExpectedFrom(kSamples);
  const std::string known_event = e.browser.begin()->first;
  const std::string known_click = S(e.browser.begin()->second, "click_id");
  auto day_ago = [](int days) { return Str("SELECT toYYYYMMDD(now() - INTERVAL " + std::to_string(days) + " DAY)"); };
  auto browser_row = [](const std::string& id, const std::string& topic, int offset, int days_ago) {
    Client().Execute(
        "INSERT INTO events_browser_raw (event_id, event_timestamp, event_type, click_id, _topic, "
        "_partition, _offset, _ingested_at) SELECT " +
        Quote(id) + ", toDateTime('2026-11-02 10:00:00', 'UTC'), 'pageview', 'c', " + Quote(topic) + ", 0, " +
        std::to_string(offset) + ", now() - INTERVAL " + std::to_string(days_ago) + " DAY");
  };
  // Staging past staging_ttl_days (90): dropped, unless it holds a resume offset.
  browser_row("old-1", "browser_events", 0, 100);
  browser_row("old-2", "retention_test", 5, 95);  // the newest offset of retention_test/0: kept
  // A dead letter below the offsets of a topic partition that has recent ones.
  Client().Execute(
      "INSERT INTO ingest_errors (_topic, _partition, _offset, raw, error, _ingested_at) "
      "SELECT _topic, _partition, 0, 'x', 'y', now() - INTERVAL 100 DAY FROM ingest_errors "
      "WHERE _offset > 0 LIMIT 1");
  // Staging past staging_keep_days (7): dropped when every row is in fact_events.
  browser_row(known_event, "browser_events", 1, 10);
  Client().Execute("INSERT INTO events_device_raw (click_id, _topic, _partition, _offset, _ingested_at) SELECT " +
                   Quote(known_click) + ", 'device_events', 0, 0, now() - INTERVAL 10 DAY");
  browser_row("never-built", "browser_events", 2, 12);  // not in fact_events: kept
  // Facts past fact_ttl_days (365) go, younger ones stay.
  for (int days : {400, 300}) {
    const std::string date = "today() - " + std::to_string(days);
    Client().Execute("INSERT INTO fact_events (event_id, event_date, event_type) SELECT 'f', " + date + ", 'x'");
    Client().Execute("INSERT INTO agg_events_hourly SELECT " + date + ", toDateTime(" + date +
                     "), 'x', countState(), uniqState('u')");
  }

  const std::vector<std::string> tables = {"events_browser_raw", "events_device_raw", "ingest_errors",
                                           "fact_events",        "agg_events_hourly", "events_geo_raw",
                                           "events_location_raw"};
  // Past their TTL (staging 90 days, facts and aggregates 365). A server with TTL drops them
  // itself (forced here by a merge), a resume offset's partition too: the group's committed
  // offset is the loader's floor then. On 18.16 retention does it and keeps resume offsets.
  const std::string fact_day_400 = Str("SELECT toYYYYMMDD(today() - 400)");
  const std::map<std::string, std::set<std::string>> past_ttl = {{"events_browser_raw", {day_ago(100), day_ago(95)}},
                                                                 {"ingest_errors", {day_ago(100)}},
                                                                 {"fact_events", {fact_day_400}},
                                                                 {"agg_events_hourly", {fact_day_400}}};
  const bool server_ttl = QueryServerVersion(Client()).SupportsTtl();
  if (server_ttl) {
    for (const auto& t : tables) Client().Execute("OPTIMIZE TABLE " + t + " FINAL");
  }
  std::map<std::string, std::set<std::string>> before;
  for (const auto& t : tables) before[t] = Partitions(t);
  if (server_ttl) {
    for (const auto& [t, gone] : past_ttl) {
      for (const auto& p : gone) EXPECT_FALSE(before[t].count(p)) << t << " " << p << " outlived its TTL";
    }
  }
  const std::string dry = Cf({"retention", "--dry-run"});
  for (const auto& [t, parts] : before) EXPECT_EQ(Partitions(t), parts) << t << " changed by --dry-run";
  Cf({"retention"});

  std::map<std::string, std::set<std::string>> want_dropped = {{"events_browser_raw", {day_ago(100), day_ago(10)}},
                                                               {"events_device_raw", {day_ago(10)}},
                                                               {"ingest_errors", {day_ago(100)}},
                                                               {"fact_events", {fact_day_400}},
                                                               {"agg_events_hourly", {fact_day_400}},
                                                               {"events_geo_raw", {}},
                                                               {"events_location_raw", {}}};
  if (server_ttl) {
    for (const auto& [t, gone] : past_ttl) {
      for (const auto& p : gone) want_dropped[t].erase(p);
    }
  }
  for (const auto& [t, parts] : before) {
    std::set<std::string> dropped;
    const std::set<std::string> after = Partitions(t);
    for (const auto& p : parts) {
      if (!after.count(p)) dropped.insert(p);
    }
    EXPECT_EQ(dropped, want_dropped[t]) << t;
    for (const auto& p : want_dropped[t]) {
      EXPECT_NE(dry.find("would drop " + t + " " + p), std::string::npos) << dry;
    }
  }
  EXPECT_EQ(Partitions("events_browser_raw").count(day_ago(95)), server_ttl ? 0u : 1u);
  EXPECT_TRUE(Partitions("events_browser_raw").count(day_ago(12)));
}

TEST(DwhTest, VerifyNamesTheDayAnAggregateDisagreesOnAndTheDuplicateFacts) {
  Reset();
  LoadDir(kSamples);
  Cf({"dwh", "build"});
  const std::string day = Str("SELECT toYYYYMMDD(min(event_date)) FROM fact_events");
  const int64_t facts_that_day =
      Client().QueryInt("SELECT count() FROM fact_events WHERE toYYYYMMDD(event_date) = " + day);
  // One of the day's events counted a second time by agg_events_hourly (its user is already
  // counted that day, so only the event count is off).
  Client().Execute(
      "INSERT INTO agg_events_hourly SELECT event_date, event_hour, event_type, countState(), "
      "uniqState(user_domain_id) FROM (SELECT * FROM fact_events WHERE toYYYYMMDD(event_date) = " +
      day + " LIMIT 1) AS f GROUP BY event_date, event_hour, event_type");
  CommandResult r = Clickflow({"dwh", "verify"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  const std::string want = fmt::format(
      "verify: FAIL: agg_events_hourly countMerge(total_events) disagrees with fact_events on 1 day(s): "
      "{}: fact {} vs {}\n",
      day, facts_that_day, facts_that_day + 1);
  EXPECT_NE(r.output.find(want), std::string::npos) << want << r.output;
  EXPECT_EQ(r.output.find("agg_traffic_sources"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("duplicates"), std::string::npos) << r.output;

  Cf({"dwh", "build", "--full"});
  const int64_t facts = Client().QueryInt("SELECT count() FROM fact_events");
  Client().Execute("INSERT INTO fact_events SELECT * FROM fact_events LIMIT 2");
  r = Clickflow({"dwh", "verify"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("verify: FAIL: fact_events holds 2 row(s) more than distinct event_ids (duplicates)\n"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(Client().QueryInt("SELECT count() FROM fact_events"), facts + 2);
}

}  // namespace
}  // namespace clickflow
