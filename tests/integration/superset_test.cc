// Superset of the stack with the dashboards of superset/assets/, on warehouse data loaded the
// real way (generate -> produce -> load -> dwh build -> quality run): every chart's data API
// equals SQL this test runs itself on ClickHouse, a country filter changes the numbers as it
// should, re-importing the bundle duplicates nothing, the read-only ClickHouse user cannot
// write, and every dashboard renders with data in headless Chromium.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "clickhouse/client.h"
#include "common/template.h"
#include "stack/superset_api.h"
#include "stack/superset_home.h"
#include "test_env.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using stack::SupersetApi;
using testing::Clickflow;
using testing::StackConfig;

// A chart of the bundle and the SQL that must give the same rows, written here from the tables
// (never the SQL of the chart's dataset, which would check the dataset against itself); empty
// for the funnel, which the test computes itself (FunnelRows). `top` marks "top N" charts, where
// rows tied at the cut may legitimately differ: their counts must match, and each row shown
// must be a row of the full result.
struct ChartCheck {
  const char* uuid;
  std::string sql;
  int top = 0;
};

constexpr const char* kFunnelChart = "4e53d052-fc6a-569c-b8a8-0772e668c806";

// Rows count and last load of each staging table and of the dead letters.
std::string IngestionLagSql() {
  std::string sql = "SELECT staging_table, rows, toUInt32(last_ingested_at)*1000 AS last_ingested_at FROM (";
  const char* tables[] = {"events_browser_raw", "events_device_raw", "events_geo_raw", "events_location_raw",
                          "ingest_errors"};
  for (size_t i = 0; i < std::size(tables); ++i) {
    sql += fmt::format(
        "{}SELECT '{}' AS staging_table, count() AS rows, max(_ingested_at) AS last_ingested_at "
        "FROM analytics.{}",
        i ? " UNION ALL " : "", tables[i], tables[i]);
  }
  return sql + ")";
}

const std::vector<ChartCheck>& ChartChecks() {
  static const std::vector<ChartCheck> checks = {
      {"93920b78-b155-5f6a-88f0-70879b857e9a", "SELECT count() AS count FROM analytics.fact_events"},
      {"b6717d6e-54b7-5701-be2f-2f627878cc1b",
       "SELECT toUInt32(event_hour)*1000 AS event_hour, count() AS count FROM analytics.fact_events GROUP BY "
       "event_hour"},
      {"f3d1e1cd-ae35-5a81-bee7-14ded5629e6c",
       "SELECT event_type, count() AS count FROM analytics.fact_events GROUP BY event_type"},
      {"f3a5992b-695d-5bb1-adb0-d9c8ef2fab8d",
       "SELECT browser_name, count() AS count FROM analytics.fact_events GROUP BY browser_name", 10},
      {"ede11302-1e9a-5c9c-9f75-5ff45078028d",
       "SELECT utm_source, utm_medium, utm_campaign, count() AS count, uniq(user_domain_id) AS unique_users, "
       "uniq(click_id) AS sessions FROM analytics.fact_events GROUP BY utm_source, utm_medium, utm_campaign"},
      {"d3bb32c2-6a78-5c3c-9099-be30042d7244",
       "SELECT utm_source, utm_campaign, count() AS count FROM analytics.fact_events GROUP BY utm_source, "
       "utm_campaign"},
      {"0c560b6e-c3b0-5ae3-993a-e7d10e3447f3",
       "SELECT toUInt32(toDateTime(event_date))*1000 AS event_date, utm_source, count() AS count "
       "FROM analytics.fact_events GROUP BY event_date, utm_source"},
      {"0855db5d-40ba-58f4-8d48-78df4e79e728",
       "SELECT geo_country, count() AS count, uniq(user_domain_id) AS unique_users FROM analytics.fact_events "
       "GROUP BY geo_country"},
      {"6f7d4fa2-dd36-5617-8033-0bf1262af78e",
       "SELECT geo_region_name, count() AS count FROM analytics.fact_events GROUP BY geo_region_name", 20},
      {"4862721c-1671-5b24-a522-50c823a04a35",
       "SELECT geo_country, device_type, count() AS count, uniq(user_domain_id) AS unique_users "
       "FROM analytics.fact_events GROUP BY geo_country, device_type"},
      {kFunnelChart, ""},
      {"e97e2a13-8ebe-5f84-8d00-6658cba35c86",
       "SELECT referer_url, page_url_path, count() AS count FROM analytics.fact_events "
       "WHERE referer_url != '' GROUP BY referer_url, page_url_path"},
      // Weekly retention: each user's cohort is the Monday of their first day; week n counts the
      // users of the cohort active n weeks later, out of those whose week n has begun.
      {"0756c97d-0fde-5b1c-bc6c-63ffb21990fe",
       "SELECT week_number, cohort, active/members AS retention FROM ("
       " SELECT toString(toMonday(first_day)) AS cohort, week_number, count() AS members,"
       " countIf(has(weeks, first_week + week_number)) AS active FROM ("
       "  SELECT min(event_date) AS first_day, toRelativeWeekNum(min(event_date)) AS first_week,"
       "  groupUniqArray(toRelativeWeekNum(event_date)) AS weeks FROM analytics.fact_events GROUP BY user_domain_id)"
       " ARRAY JOIN range(toUInt32((SELECT toRelativeWeekNum(max(event_date)) FROM analytics.fact_events)"
       "  - first_week + 1)) AS week_number"
       " GROUP BY cohort, week_number)"},
      // The latest run of each check (the run of its newest row), summed over its tables. ALL: on
      // current servers ANY INNER JOIN also keeps one row per key of the left side.
      {"5c65420c-f908-58bc-ad7f-9eb86866ce6b",
       "SELECT check, toString(worst) AS status, n AS results, n_fail AS failed, n_warn AS warned,"
       " table_list AS tables, toUInt32(newest)*1000 AS checked_at, run_id, worst_details AS details FROM ("
       " SELECT check, run_id, max(status) AS worst, count() AS n, countIf(status = 'fail') AS n_fail,"
       " countIf(status = 'warn') AS n_warn, arrayStringConcat(arraySort(groupUniqArray(table)), ', ') AS table_list,"
       " max(checked_at) AS newest, argMax(details, status) AS worst_details"
       " FROM analytics.quality_results ALL INNER JOIN (SELECT check, argMax(run_id, checked_at) AS run_id"
       " FROM analytics.quality_results GROUP BY check) AS latest USING (check, run_id) GROUP BY check, run_id)"},
      {"2b772445-65a2-5761-a34b-6dbf4e80f4a6",
       "SELECT toUInt32(checked_at)*1000 AS checked_at, check, max(toInt8(status)) AS worst_status "
       "FROM analytics.quality_results GROUP BY checked_at, check"},
      {"eaef7679-9468-5dd4-abed-897f3552e2c3", IngestionLagSql()},
      {"af742794-7eaa-5a36-85a2-f1c393e13f72",
       "SELECT _topic, error, count() AS count FROM analytics.ingest_errors GROUP BY _topic, error"},
      {"727c6a44-09fc-56cd-803e-c8bae8c319fa",
       "SELECT toUInt32(toDateTime(intDiv(toUInt32(_ingested_at),3600)*3600))*1000 AS ingested_hour, _topic, "
       "count() AS count FROM analytics.ingest_errors GROUP BY ingested_hour, _topic"},
  };
  return checks;
}

constexpr const char* kTotalEventsChart = "93920b78-b155-5f6a-88f0-70879b857e9a";

// One value as text, numbers rounded to 9 significant digits (ClickHouse quotes 64-bit
// integers in JSON; Superset sends floats), so both sides print the same.
std::string Canonical(const json& v) {
  if (v.is_null()) return "NULL";
  if (v.is_number()) return fmt::format("{:.9g}", v.get<double>());
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    static const std::regex number(R"(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
    if (std::regex_match(s, number)) return fmt::format("{:.9g}", std::stod(s));
    return s;
  }
  return v.dump();
}

using Row = std::vector<std::string>;

std::multiset<Row> RowsOf(const json& records, const std::vector<std::string>& columns) {
  std::multiset<Row> rows;
  for (const auto& record : records) {
    Row row;
    for (const auto& c : columns) row.push_back(record.contains(c) ? Canonical(record[c]) : "<missing " + c + ">");
    rows.insert(row);
  }
  return rows;
}

class SupersetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(StackConfig().stack.superset) << "the stack fixture must run Superset";
    for (std::vector<std::string> step : std::vector<std::vector<std::string>>{{"migrate"}, {"topics", "create"}}) {
      CommandResult r = Clickflow(step);
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    // Warehouse data the real way: 20k generated events over four weeks, with duplicates,
    // late and malformed lines (dead letters), then a quality run for the quality dashboard.
    data_dir_ = fs::temp_directory_path() / ("clickflow-superset-test-" + std::to_string(::getpid()));
    for (std::vector<std::string> step : std::vector<std::vector<std::string>>{
             {"generate", "--out", data_dir_.string(), "--events", "20000", "--seed", "11", "--duplicate-rate", "0.01",
              "--late-rate", "0.01", "--malformed-rate", "0.002"},
             {"produce", "--dir", data_dir_.string(), "--no-progress"},
             {"load", "--once", "--no-metrics"},
             {"dwh", "build"}}) {
      CommandResult r = Clickflow(step);
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    // Every check passes on this data: a failed one (exit 2) is a failure of the pipeline.
    CommandResult quality = Clickflow({"quality", "run"});
    ASSERT_EQ(quality.exit_code, 0) << quality.output;

    api_ = std::make_unique<SupersetApi>(stack::SupersetLocalUrl(StackConfig()), "admin",
                                         StackConfig().stack.superset_password);
    SupersetApi::Response charts =
        api_->Get("/api/v1/chart/?q=(columns:!(id,uuid,slice_name,viz_type,datasource_id),page_size:100)");
    ASSERT_EQ(charts.status, 200) << charts.body;
    const json listed = json::parse(charts.body);  // named: a range-for over a temporary's member dangles
    for (const auto& c : listed["result"]) charts_[c["uuid"].get<std::string>()] = c;
  }

  static void TearDownTestSuite() {
    api_.reset();
    fs::remove_all(data_dir_);
  }

  static json Query(const std::string& sql) {
    ClickHouseClient client(StackConfig().clickhouse);
    return json::parse(client.Query(sql, "JSON"))["data"];
  }

  static json Get(const std::string& path) {
    SupersetApi::Response r = api_->Get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body.substr(0, 500);
    return r.status == 200 ? json::parse(r.body) : json::object();
  }

  // The "page funnel" chart computed here from fact_events: per session (click_id), the deepest
  // step reached in order (/home, /product_*, /cart, /payment, /confirmation) within 24 hours
  // of the /home it starts from; a session counts at every step up to its deepest.
  static json FunnelRows() {
    const char* names[] = {"1. /home", "2. /product_*", "3. /cart", "4. /payment", "5. /confirmation"};
    auto step_of = [](const std::string& path) {
      if (path == "/home") return 1;
      if (path.rfind("/product_", 0) == 0) return 2;
      if (path == "/cart") return 3;
      if (path == "/payment") return 4;
      return path == "/confirmation" ? 5 : 0;
    };
    // Equal timestamps in the order that reaches furthest.
    std::map<std::string, std::vector<std::pair<int64_t, int>>> sessions;
    for (const auto& r : Query("SELECT click_id, toUInt32(event_timestamp) AS ts, page_url_path FROM "
                               "analytics.fact_events")) {
      const int step = step_of(r["page_url_path"].get<std::string>());
      if (step > 0) sessions[r["click_id"]].push_back({std::stoll(Canonical(r["ts"])), step});
    }
    std::map<int, int64_t> reached;
    for (auto& [click_id, events] : sessions) {
      std::sort(events.begin(), events.end());
      int deepest = 0;
      for (size_t start = 0; start < events.size(); ++start) {
        if (events[start].second != 1) continue;
        int level = 1;
        for (size_t i = start + 1; i < events.size() && events[i].first <= events[start].first + 86400; ++i) {
          if (events[i].second == level + 1) ++level;
        }
        deepest = std::max(deepest, level);
      }
      for (int step = 1; step <= deepest; ++step) ++reached[step];
    }
    json rows = json::array();
    for (const auto& [step, count] : reached) rows.push_back({{"step", names[step - 1]}, {"sessions", count}});
    return rows;
  }

  static int64_t CountOf(const std::string& table) {
    return std::stoll(Canonical(Query("SELECT count() AS n FROM analytics." + table)[0]["n"]));
  }

  static int Count(const std::string& resource) {
    return Get("/api/v1/" + resource + "/?q=(page_size:1)")["count"].get<int>();
  }

  static inline fs::path data_dir_;
  static inline std::unique_ptr<SupersetApi> api_;
  static inline std::map<std::string, json> charts_;
};

TEST_F(SupersetTest, EveryChartsDataApiEqualsTheSameQueryOnClickHouse) {
  ASSERT_EQ(charts_.size(), ChartChecks().size());
  for (const auto& check : ChartChecks()) {
    SCOPED_TRACE(check.uuid);
    ASSERT_TRUE(charts_.count(check.uuid)) << "chart not imported";
    const json& chart = charts_[check.uuid];
    SCOPED_TRACE(chart["slice_name"].get<std::string>());

    const json want = check.sql.empty() ? FunnelRows() : Query(check.sql);
    ASSERT_FALSE(want.empty()) << "no warehouse rows for: " << check.sql;
    std::vector<std::string> columns;
    for (const auto& [name, value] : want[0].items()) columns.push_back(name);

    const json got = Get("/api/v1/chart/" + std::to_string(chart["id"].get<int>()) + "/data/");
    ASSERT_TRUE(got.contains("result")) << got.dump().substr(0, 500);
    const json& data = got["result"][0]["data"];
    ASSERT_FALSE(data.empty()) << "the chart returned no rows";

    const auto want_rows = RowsOf(want, columns);
    const auto got_rows = RowsOf(data, columns);
    if (check.top == 0) {
      EXPECT_EQ(got_rows, want_rows) << "columns: " << json(columns).dump();
      continue;
    }
    // Top N: the N largest counts, each row one of the full result.
    std::vector<double> want_counts, got_counts;
    for (const auto& r : want) want_counts.push_back(std::stod(Canonical(r["count"])));
    for (const auto& r : data) got_counts.push_back(r["count"].get<double>());
    std::sort(want_counts.rbegin(), want_counts.rend());
    std::sort(got_counts.rbegin(), got_counts.rend());
    want_counts.resize(std::min<size_t>(want_counts.size(), check.top));
    EXPECT_EQ(got_counts, want_counts);
    for (const auto& row : got_rows) EXPECT_TRUE(want_rows.count(row)) << json(row).dump();
  }
}

TEST_F(SupersetTest, ACountryFilterChangesTheTotalToThatCountrysCount) {
  const json top = Query(
      "SELECT geo_country, count() AS n FROM analytics.fact_events GROUP BY geo_country "
      "ORDER BY n DESC, geo_country LIMIT 2");
  ASSERT_EQ(top.size(), 2u);
  const int id = charts_.at(kTotalEventsChart)["id"].get<int>();
  // The saved query context of "Total events", with the filter a native filter adds.
  json context = json::parse(Get("/api/v1/chart/" + std::to_string(id))["result"]["query_context"].get<std::string>());
  const int64_t all = CountOf("fact_events");
  for (const auto& row : top) {
    const std::string country = row["geo_country"];
    json filtered = context;
    filtered["queries"][0]["filters"].push_back({{"col", "geo_country"}, {"op", "IN"}, {"val", {country}}});
    SupersetApi::Response r = api_->PostJson("/api/v1/chart/data", filtered.dump());
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
    const double got = json::parse(r.body)["result"][0]["data"][0]["count"].get<double>();
    EXPECT_EQ(got, std::stod(Canonical(row["n"]))) << country;
    EXPECT_LT(got, all) << country;
  }
}

TEST_F(SupersetTest, ReimportingTheBundleLeavesExactlyOneCopyOfEachObject) {
  // What the stack does on start when the bundle changed: render, zip, import through the API.
  const stack::SupersetHome home(StackConfig());
  for (int i = 0; i < 2; ++i) {
    bool imported = false;
    ASSERT_NO_THROW(imported = home.ImportAssets(stack::SupersetLocalUrl(StackConfig()), /*force=*/true));
    EXPECT_TRUE(imported);
  }
  // Unchanged bundle: nothing to do.
  EXPECT_FALSE(home.ImportAssets(stack::SupersetLocalUrl(StackConfig())));
  EXPECT_EQ(Count("dashboard"), 5);
  EXPECT_EQ(Count("chart"), static_cast<int>(ChartChecks().size()));
  EXPECT_EQ(Count("dataset"), 11);
  EXPECT_EQ(Count("database"), 1);
  for (const char* slug : {"overview", "traffic-sources", "geo", "user-behavior", "data-quality"}) {
    EXPECT_EQ(Get(std::string("/api/v1/dashboard/") + slug)["result"]["slug"], slug);
  }
  // Without a change, a restart does not import at all (stamped), and the stamp holds no secret.
  const std::string stamp = ReadFile(home.Dir() / "assets-imported.sha256");
  EXPECT_EQ(stamp.find(StackConfig().clickhouse.readonly_password + "@"), std::string::npos);
  EXPECT_FALSE(fs::exists(home.Dir() / "bundle")) << "the rendered bundle (with the password) must not stay";
}

// Personal data stays out of the datasets: IP addresses, custom user ids (emails), and the dead
// letters' raw messages, which hold both.
TEST_F(SupersetTest, NoDatasetExposesIpAddressesCustomUserIdsOrRawMessages) {
  const json listed = Get("/api/v1/dataset/?q=(columns:!(id,table_name),page_size:100)");
  ASSERT_EQ(listed["result"].size(), 11u);
  for (const auto& d : listed["result"]) {
    const json dataset = Get("/api/v1/dataset/" + std::to_string(d["id"].get<int>()))["result"];
    SCOPED_TRACE(dataset.value("table_name", ""));
    ASSERT_FALSE(dataset["columns"].empty());
    for (const auto& column : dataset["columns"]) {
      const std::string name = column["column_name"];
      EXPECT_TRUE(name != "ip_address" && name != "user_custom_id" && name != "raw") << name;
    }
    const std::string sql = dataset["sql"].is_string() ? dataset["sql"].get<std::string>() : "";
    EXPECT_EQ(sql.find("ip_address"), std::string::npos) << sql;
    EXPECT_EQ(sql.find("user_custom_id"), std::string::npos) << sql;
  }
}

TEST_F(SupersetTest, NoProcessShowsTheAdminPasswordOnItsCommandLine) {
  // /proc/<pid>/cmdline is readable by every local user. The stack's Superset (and whatever it
  // started) runs now, and its admin login was set up by the stack.
  const std::string password = StackConfig().stack.superset_password;
  ASSERT_GE(password.size(), 8u);
  int seen = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline;
    try {
      cmdline = ReadFile(entry.path() / "cmdline");
    } catch (const std::exception&) {
      continue;  // gone meanwhile
    }
    ++seen;
    EXPECT_EQ(cmdline.find(password), std::string::npos) << "pid " << pid << ": " << cmdline.substr(0, 200);
  }
  EXPECT_GT(seen, 0);
}

TEST_F(SupersetTest, SqlLabRunsAsTheReadOnlyUserSoClickHouseRefusesWrites) {
  const json databases = Get("/api/v1/database/?q=(page_size:10)")["result"];
  ASSERT_EQ(databases.size(), 1u);
  const int db = databases[0]["id"].get<int>();
  auto run = [&](const std::string& sql) {
    return api_->PostJson("/api/v1/sqllab/execute/",
                          json{{"database_id", db}, {"sql", sql}, {"schema", "analytics"}, {"runAsync", false}}.dump());
  };
  SupersetApi::Response ok = run("SELECT count() AS n FROM analytics.fact_events");
  EXPECT_EQ(ok.status, 200) << ok.body.substr(0, 500);
  const int64_t facts = CountOf("fact_events"), results = CountOf("quality_results");
  for (const std::string sql : {"INSERT INTO analytics.quality_results (run_id) VALUES ('from-superset')",
                                "DROP TABLE analytics.fact_events"}) {
    SupersetApi::Response r = run(sql);
    EXPECT_NE(r.status, 200) << sql;
    // ClickHouse's own refusal (code 164, READONLY), passed through by Superset.
    EXPECT_NE(r.body.find("164"), std::string::npos) << sql << ": " << r.body.substr(0, 800);
  }
  EXPECT_EQ(CountOf("fact_events"), facts);
  EXPECT_EQ(CountOf("quality_results"), results);
}

TEST_F(SupersetTest, EveryDashboardRendersWithDataInABrowserAndTheCountryFilterApplies) {
  const json top = Query(
      "SELECT geo_country, count() AS n FROM analytics.fact_events GROUP BY geo_country "
      "ORDER BY n DESC, geo_country LIMIT 1");
  const std::string country = top[0]["geo_country"];
  const double expected = std::stod(Canonical(top[0]["n"]));
  CommandResult r = testing::RunBrowserTest(
      "superset_dashboards.mjs",
      {stack::SupersetLocalUrl(StackConfig()), StackConfig().stack.superset_password, testing::ScreenshotDir().string(),
       "--country", country, "overview", "traffic-sources", "geo", "user-behavior", "data-quality"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* slug : {"overview", "traffic-sources", "geo", "user-behavior", "data-quality"}) {
    EXPECT_TRUE(fs::exists(testing::ScreenshotDir() / (std::string("superset-") + slug + ".png"))) << slug;
  }
  // The big number as shown: "1,234", or "15.5k" (3 significant digits) for larger values.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"re("filtered_total":"([0-9.,]+)([kM]?)")re"))) << r.output;
  std::string digits = m[1];
  digits.erase(std::remove(digits.begin(), digits.end(), ','), digits.end());
  const double shown = std::stod(digits) * (m[2] == "k" ? 1e3 : m[2] == "M" ? 1e6 : 1);
  if (m[2].length() == 0) {
    EXPECT_EQ(shown, expected) << country;
  } else {
    EXPECT_NEAR(shown, expected, expected * 0.01) << country;
  }
}

}  // namespace
}  // namespace clickflow
