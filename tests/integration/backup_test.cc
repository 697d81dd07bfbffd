// `clickflow backup` of the shared stack (with Airflow and Superset) and `clickflow restore`
// into a second stack of its own (fresh data dir, free ports): after `stack up` on the restored
// data dir, ClickHouse holds the same rows (aggregate states included), Superset the same five
// dashboards and Airflow the same DAG-run history.
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "backup/backup.h"
#include "clickhouse/client.h"
#include "common/net.h"
#include "common/template.h"
#include "free_ports.h"
#include "stack/superset_api.h"
#include "stack/superset_home.h"
#include "test_env.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using testing::Clickflow;
using testing::RunProgram;
using testing::StackConfig;

double Since(Clock::time_point begin) { return std::chrono::duration<double>(Clock::now() - begin).count(); }

struct HttpResult {
  long status = 0;
  std::string body;
  json Json() const { return json::parse(body); }
};

// Airflow's REST API through curl (as in airflow_test.cc), against the stack of `config`.
HttpResult Http(const Config& config, const std::string& method, const std::string& path, const std::string& token = "",
                const std::string& body = "") {
  const std::string url = "http://127.0.0.1:" + std::to_string(config.stack.airflow_port) + path;
  std::vector<std::string> argv = {"curl", "-sS", "-m", "30", "-X", method, "-w", "\n%{http_code}", url};
  if (!token.empty()) argv.insert(argv.end(), {"-H", "Authorization: Bearer " + token});
  if (!body.empty()) argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data", body});
  CommandResult r = RunProgram(argv);
  HttpResult out;
  const size_t nl = r.output.find_last_of('\n');
  if (r.exit_code != 0 || nl == std::string::npos) return out;
  out.status = std::atol(r.output.c_str() + nl + 1);
  out.body = r.output.substr(0, nl);
  return out;
}

std::string AirflowToken(const Config& config) {
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    HttpResult r = Http(config, "POST", "/auth/token", "",
                        json{{"username", "admin"}, {"password", config.stack.airflow_password}}.dump());
    if (r.status == 200 || r.status == 201) return r.Json().value("access_token", "");
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  return "";
}

// Every DAG run of the stack (the first 100, the API's page limit): "dag_id/run_id run_type" ->
// state.
std::map<std::string, std::string> DagRuns(const Config& config, const std::string& token) {
  HttpResult r = Http(config, "GET", "/api/v2/dags/~/dagRuns?limit=100", token);
  EXPECT_EQ(r.status, 200) << r.body;
  std::map<std::string, std::string> runs;
  if (r.status != 200) return runs;
  const json listed = r.Json();  // named: a range-for over a temporary's member dangles
  for (const auto& run : listed["dag_runs"]) {
    auto text = [&](const char* key) {
      return run.contains(key) && run[key].is_string() ? run[key].get<std::string>() : "";
    };
    runs[text("dag_id") + "/" + text("dag_run_id") + " " + text("run_type")] = text("state");
  }
  return runs;
}

bool Finished(const std::string& state) { return state == "success" || state == "failed"; }

// Dashboards of the stack's Superset, by slug.
std::set<std::string> Dashboards(const Config& config) {
  stack::SupersetApi api(stack::SupersetLocalUrl(config), "admin", config.stack.superset_password);
  stack::SupersetApi::Response r = api.Get("/api/v1/dashboard/?q=(columns:!(slug),page_size:100)");
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 500);
  std::set<std::string> slugs;
  if (r.status != 200) return slugs;
  const json listed = json::parse(r.body);
  for (const auto& d : listed["result"]) slugs.insert(d["slug"].is_string() ? d["slug"].get<std::string>() : "");
  return slugs;
}

// What ClickHouse holds, table by table, plus the merged aggregate states (which only come out
// right if the AggregateFunction columns round-tripped).
std::map<std::string, std::string> ClickHouseFacts(const Config& config) {
  ClickHouseClient client(config.clickhouse);
  const std::string db = config.clickhouse.database;
  std::map<std::string, std::string> facts;
  for (const char* table : {"events_browser_raw", "events_device_raw", "events_geo_raw", "events_location_raw",
                            "ingest_errors", "fact_events", "dim_users", "dim_geo", "agg_events_hourly",
                            "agg_traffic_sources", "quality_results", "schema_migrations", "dwh_build_state"}) {
    facts[table] = std::to_string(client.QueryInt("SELECT count() FROM " + db + "." + table));
  }
  facts["agg_events_hourly merged"] = client.Query(
      "SELECT countMerge(total_events), uniqMerge(unique_users) FROM " + db + ".agg_events_hourly", "TabSeparated");
  facts["agg_traffic_sources merged"] =
      client.Query("SELECT utm_source, countMerge(total_events), uniqMerge(unique_users) FROM " + db +
                       ".agg_traffic_sources GROUP BY utm_source ORDER BY utm_source",
                   "TabSeparated");
  facts["fact_events checksum"] = client.Query(
      "SELECT sum(cityHash64(event_id, event_type, toString(event_timestamp))) FROM " + db + ".fact_events",
      "TabSeparated");
  return facts;
}

class BackupTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const Config& source = StackConfig();
    ASSERT_TRUE(source.stack.airflow && source.stack.superset) << "the source stack must run Airflow and Superset";
    dir_ = fs::temp_directory_path() / ("clickflow-backup-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms(0755));  // service users must reach the target's folders

    // Known data the real way: 5,000 generated events with malformed lines (dead letters).
    const auto t0 = Clock::now();
    for (std::vector<std::string> step :
         std::vector<std::vector<std::string>>{{"migrate"},
                                               {"topics", "create"},
                                               {"generate", "--out", (dir_ / "gen").string(), "--events", "5000",
                                                "--seed", "31", "--malformed-rate", "0.004"},
                                               {"produce", "--dir", (dir_ / "gen").string(), "--no-progress"},
                                               {"load", "--once", "--no-metrics"},
                                               {"dwh", "build"}}) {
      CommandResult r = Clickflow(step);
      ASSERT_EQ(r.exit_code, 0) << step[0] << ":\n" << r.output;
    }
    // Every check passes on this data: a failed one (exit 2) is a failure of the pipeline.
    CommandResult quality = Clickflow({"quality", "run"});
    ASSERT_EQ(quality.exit_code, 0) << quality.output;
    std::cout << "source data loaded in " << Since(t0) << " s" << std::endl;

    // A DAG-run history: trigger one run if the stack has none yet (the DAG stays paused, so
    // the run stays queued and the history is stable).
    token_ = AirflowToken(source);
    ASSERT_FALSE(token_.empty()) << "no Airflow token";
    if (DagRuns(source, token_).empty()) {
      const auto deadline = Clock::now() + std::chrono::seconds(300);
      HttpResult trigger;
      while (Clock::now() < deadline) {  // 404 until the dag-processor has stored the DAG
        trigger = Http(source, "POST", "/api/v2/dags/data_quality_checks/dagRuns", token_,
                       json{{"logical_date", nullptr}, {"dag_run_id", "backup_test_run"}}.dump());
        if (trigger.status == 200 || trigger.status == 201) break;
        std::this_thread::sleep_for(std::chrono::seconds(3));
      }
      ASSERT_TRUE(trigger.status == 200 || trigger.status == 201) << trigger.status << " " << trigger.body;
    }
    // The API may answer before its transaction is committed: wait until the run is listed.
    for (int i = 0; i < 30 && source_runs_.empty(); ++i) {
      source_runs_ = DagRuns(source, token_);
      if (source_runs_.empty()) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    source_dashboards_ = Dashboards(source);
    source_facts_ = ClickHouseFacts(source);
  }

  static void TearDownTestSuite() {
    if (!target_file_.empty()) {
      CommandResult down = Target({"stack", "down"});
      EXPECT_EQ(down.exit_code, 0) << down.output;
    }
    fs::remove_all(dir_);
  }

  static CommandResult Target(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {CLICKFLOW_BINARY, "--config", target_file_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv);
  }

  static inline fs::path dir_;
  static inline fs::path target_file_;
  static inline std::string token_;
  static inline std::map<std::string, std::string> source_runs_;
  static inline std::map<std::string, std::string> expected_runs_;  // run -> finished state, or ""
  static inline std::set<std::string> source_dashboards_;
  static inline std::map<std::string, std::string> source_facts_;
};

TEST_F(BackupTest, BackupRestoredIntoAFreshStackHasTheSameDataDashboardsAndDagRuns) {
  ASSERT_FALSE(source_runs_.empty());
  ASSERT_EQ(source_dashboards_.size(), 5u);
  ASSERT_GE(std::stoll(source_facts_["fact_events"]), 4900);
  ASSERT_GT(std::stoll(source_facts_["ingest_errors"]), 0) << "no dead letters in the source";

  // 1. Backup of the running source stack. Nothing else writes while the test holds the
  //    stack, which the counts before and after show.
  const fs::path backup_dir = dir_ / "backup";
  auto t0 = Clock::now();
  CommandResult backup = Clickflow({"backup", "--to", backup_dir.string()});
  const double backup_s = Since(t0);
  ASSERT_EQ(backup.exit_code, 0) << backup.output;
  ASSERT_EQ(ClickHouseFacts(StackConfig()), source_facts_) << "ClickHouse changed during the backup";
  // Runs in flight may move on in either stack; their ids and finished states may not.
  const auto runs_after = DagRuns(StackConfig(), token_);
  for (const auto& [run, state] : source_runs_) {
    if (!runs_after.count(run)) continue;
    if (Finished(state))
      expected_runs_[run] = state;
    else
      expected_runs_[run] = "";  // the dump saw it unfinished, or finished just now
  }
  ASSERT_FALSE(expected_runs_.empty());
  std::cout << backup.output << "backup took " << backup_s << " s\n";
  RecordProperty("backup_seconds", std::to_string(backup_s));
  EXPECT_EQ(fs::status(backup_dir).permissions() & fs::perms::all, fs::perms(0700));
  uint64_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(backup_dir)) {
    if (!entry.is_regular_file()) continue;
    bytes += entry.file_size();
    EXPECT_EQ(entry.status().permissions() & fs::perms::all, fs::perms(0600)) << entry.path();
  }
  std::cout << "backup size " << bytes / 1024 << " KB\n";
  RecordProperty("backup_bytes", std::to_string(bytes));
  const backup::Manifest manifest = backup::ReadManifest(backup_dir);
  std::set<std::string> tables;
  for (const auto& t : manifest.tables) {
    tables.insert(t.name);
    if (source_facts_.count(t.name)) {
      EXPECT_EQ(std::to_string(t.rows), source_facts_[t.name]) << t.name;
    }
  }
  for (const auto& [name, count] : source_facts_) {
    if (name.find(' ') == std::string::npos) {
      EXPECT_TRUE(tables.count(name)) << name << " is not in the backup";
    }
  }
  for (const char* skipped : {"fact_events_build", "agg_events_hourly_build", "mv_agg_events_hourly"}) {
    EXPECT_FALSE(tables.count(skipped)) << skipped;
  }
  for (const char* file :
       {"postgres/airflow.dump", "postgres/superset.dump", "secrets/airflow/fernet_key", "secrets/airflow/jwt_secret",
        "secrets/airflow/secret_key", "secrets/superset/secret_key", "config/clickflow.yaml"}) {
    EXPECT_TRUE(fs::exists(backup_dir / file)) << file;
  }

  // 2. A second stack: fresh data dir, free ports, Airflow and Superset on.
  Config c;
  c.data_dir = dir_ / "target";
  c.stack.deps_dir = StackConfig().stack.deps_dir;
  c.resources_dir = StackConfig().resources_dir;
  testing::UseFreePorts(c);
  target_file_ = dir_ / "target.yaml";
  WriteFile(target_file_, ToYaml(c));
  const Config target = LoadConfig(target_file_.string());

  // A damaged copy of the backup is refused, naming the file, before anything starts.
  const fs::path damaged = dir_ / "damaged";
  fs::copy(backup_dir, damaged, fs::copy_options::recursive);
  for (const auto& t : manifest.tables) {
    if (t.name != "fact_events") continue;
    std::string content = ReadFile(damaged / t.data_file);
    ASSERT_FALSE(content.empty());
    content[content.size() / 2] ^= 0x01;
    WriteFile(damaged / t.data_file, content, fs::perms(0600));
  }
  CommandResult refused = Target({"restore", "--from", damaged.string()});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("checksum mismatch"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("fact_events"), std::string::npos) << refused.output;
  for (const char* part : {"clickhouse", "postgres", "run"}) {
    EXPECT_FALSE(fs::exists(target.data_dir / part)) << part << " created by a refused restore";
  }
  fs::remove_all(damaged);

  // 3. Restore, then a normal `stack up`.
  t0 = Clock::now();
  CommandResult restore = Target({"restore", "--from", backup_dir.string()});
  const double restore_s = Since(t0);
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  std::cout << restore.output << "restore took " << restore_s << " s\n";
  RecordProperty("restore_seconds", std::to_string(restore_s));
  EXPECT_NE(restore.output.find("clickflow stack up"), std::string::npos) << restore.output;
  EXPECT_EQ(ReadFile(target.data_dir / "airflow" / "fernet_key"), ReadFile(backup_dir / "secrets/airflow/fernet_key"));
  EXPECT_EQ(fs::status(target.data_dir / "superset" / "secret_key").permissions() & fs::perms::all, fs::perms(0600));

  // A second restore into the now non-empty data dir is refused before anything starts.
  CommandResult again = Target({"restore", "--from", backup_dir.string()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("already holds data"), std::string::npos) << again.output;

  t0 = Clock::now();
  CommandResult up = Target({"stack", "up"});
  ASSERT_EQ(up.exit_code, 0) << up.output;
  std::cout << up.output << "stack up on the restored data dir took " << Since(t0) << " s\n";

  // 4. The same data, dashboards and DAG runs.
  EXPECT_EQ(ClickHouseFacts(target), source_facts_);
  EXPECT_EQ(Dashboards(target), source_dashboards_);
  const std::string token = AirflowToken(target);
  ASSERT_FALSE(token.empty()) << "no Airflow token from the restored stack";
  const auto target_runs = DagRuns(target, token);
  for (const auto& [run, state] : expected_runs_) {
    ASSERT_TRUE(target_runs.count(run)) << run << " is not in the restored Airflow";
    if (!state.empty()) {
      EXPECT_EQ(target_runs.at(run), state) << run;
    }
  }
  std::cout << expected_runs_.size() << " DAG run(s) of the source found in the restored Airflow\n";
}

}  // namespace
}  // namespace clickflow
