// Airflow in the stack, read back from Airflow itself (its CLI and REST API), never from our DAG
// files: the DAGs import cleanly, Airflow reports the four DAGs of docs/design.md#airflow-dags with their
// schedules, task ids and dependencies, the login works, the four DAGs run end to end on the
// samples with `airflow dags test`, and the scheduler runs and retries on its own.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "clickflow_source_dir.h"
#include "clickhouse/client.h"
#include "ingest/event_schema.h"
#include "ingest/timestamp.h"
#include "kafka/admin.h"
#include "test_env.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::Clickflow;
using testing::RunBrowserTest;
using testing::RunProgram;
using testing::ScreenshotDir;
using testing::StackConfig;
using Clock = std::chrono::steady_clock;

// docs/design.md#airflow-dags: schedule and, per task, its downstream tasks.
struct ExpectedDag {
  std::string schedule;  // Airflow's timetable summary; empty = manual
  std::map<std::string, std::set<std::string>> downstream;
};

const std::map<std::string, ExpectedDag>& ExpectedDags() {
  static const std::map<std::string, ExpectedDag> dags = {
      {"init_data_pipeline",
       {"",
        {{"create_kafka_topics",
          {"load_browser_events", "load_device_events", "load_geo_events", "load_location_events"}},
         {"load_browser_events", {"verify_data_load"}},
         {"load_device_events", {"verify_data_load"}},
         {"load_geo_events", {"verify_data_load"}},
         {"load_location_events", {"verify_data_load"}},
         {"verify_data_load", {}}}}},
      {"streaming_to_clickhouse",
       {"*/5 * * * *",
        {{"consume_browser_events", {"validate_ingestion"}},
         {"consume_device_events", {"validate_ingestion"}},
         {"consume_geo_events", {"validate_ingestion"}},
         {"consume_location_events", {"validate_ingestion"}},
         {"validate_ingestion", {}}}}},
      {"build_dwh_layer",
       {"*/15 * * * *",
        {{"build_fact_events", {"update_dim_users", "update_dim_geo"}},
         {"update_dim_users", {"optimize_tables"}},
         {"update_dim_geo", {"optimize_tables"}},
         {"optimize_tables", {"verify_dwh_layer"}},
         {"verify_dwh_layer", {"clear_staging_old_data"}},
         {"clear_staging_old_data", {}}}}},
      {"data_quality_checks",
       {"0 * * * *",
        {{"check_freshness", {"generate_quality_report"}},
         {"check_nulls", {"generate_quality_report"}},
         {"check_duplicates", {"generate_quality_report"}},
         {"check_referential_integrity", {"generate_quality_report"}},
         {"check_consistency", {"generate_quality_report"}},
         {"generate_quality_report", {}}}}},
  };
  return dags;
}

fs::path AirflowBin() { return StackConfig().DepsDir() / "airflow-venv" / "bin" / "airflow"; }

std::string BaseUrl() { return "http://127.0.0.1:" + std::to_string(StackConfig().stack.airflow_port); }

// What the stack gives Airflow's processes (stack/airflow_home.cc), so that `airflow dags test`
// runs its tasks exactly as the scheduler would: the stack's Airflow home, clickflow on PATH,
// and the stack's clickflow config.
std::map<std::string, std::string> AirflowEnv() {
  const fs::path home = StackConfig().data_dir / "airflow";
  const char* path = std::getenv("PATH");
  return {{"AIRFLOW_HOME", home.string()},
          {"AIRFLOW_CONFIG", (home / "airflow.cfg").string()},
          {"CLICKFLOW_CONFIG", fs::absolute(StackConfig().source).string()},
          {"PATH", fs::path(CLICKFLOW_BINARY).parent_path().string() + ":" + AirflowBin().parent_path().string() + ":" +
                       (path ? path : "/usr/bin:/bin")}};
}

CommandResult Airflow(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {AirflowBin().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, AirflowEnv());
}

struct HttpResult {
  long status = 0;
  std::string body;
  json Json() const { return json::parse(body); }
};

// The REST API through curl, an independent client.
HttpResult Http(const std::string& method, const std::string& path, const std::string& token = "",
                const std::string& body = "") {
  std::vector<std::string> argv = {"curl", "-sS", "-m", "30", "-X", method, "-w", "\n%{http_code}", BaseUrl() + path};
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

std::string Token(const std::string& user = "admin",
                  const std::string& password = StackConfig().stack.airflow_password) {
  HttpResult r = Http("POST", "/auth/token", "", json{{"username", user}, {"password", password}}.dump());
  if (r.status != 200 && r.status != 201) return "";
  return r.Json().value("access_token", "");
}

// Waits until the dag-processor has stored every DAG of ours (it parses right after start).
json WaitForDags(const std::string& token) {
  json dags;
  const auto deadline = Clock::now() + std::chrono::seconds(240);
  while (Clock::now() < deadline) {
    HttpResult r = Http("GET", "/api/v2/dags?limit=100", token);
    if (r.status == 200) {
      dags = r.Json()["dags"];
      size_t ours = 0;
      for (const auto& d : dags) ours += ExpectedDags().count(d["dag_id"].get<std::string>());
      if (ours == ExpectedDags().size()) return dags;
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  return dags;
}

// The sample files, as the test reads them: distinct browser event_ids with their event type,
// keeping the lines the loader accepts (a JSON object with the required fields as non-empty
// strings and a valid timestamp; see src/ingest/event_schema.cc).
std::map<std::string, std::string> SampleEventTypes() {
  std::ifstream in(fs::path(CLICKFLOW_SOURCE_DIR) / "data" / "samples" / "browser_events.jsonl");
  std::map<std::string, std::string> types;
  std::string line;
  while (std::getline(in, line)) {
    json doc = json::parse(line, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) continue;
    bool ok = true;
    for (const char* field : {"event_id", "event_timestamp", "event_type", "click_id"}) {
      ok = ok && doc.contains(field) && doc[field].is_string() && !doc[field].get<std::string>().empty();
    }
    if (!ok || !ParseTimestamp(doc["event_timestamp"].get<std::string>())) continue;
    types.emplace(doc["event_id"].get<std::string>(), doc["event_type"].get<std::string>());
  }
  return types;
}

class AirflowTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(StackConfig().stack.airflow) << "the stack fixture must run Airflow";
    // The scheduled DAGs' tasks need the schema and the topics (init_data_pipeline makes them
    // too, but the tests do not depend on their order).
    CommandResult migrate = Clickflow({"migrate"});
    ASSERT_EQ(migrate.exit_code, 0) << migrate.output;
    CommandResult topics = Clickflow({"topics", "create"});
    ASSERT_EQ(topics.exit_code, 0) << topics.output;
    token_ = Token();
    ASSERT_FALSE(token_.empty()) << "no token from " << BaseUrl() << "/auth/token";
    dags_ = WaitForDags(token_);
  }

  ClickHouseClient client_{StackConfig().clickhouse};
  const std::string db_ = StackConfig().clickhouse.database;
  static inline std::string token_;
  static inline json dags_;
};

TEST_F(AirflowTest, DagFilesHaveNoImportErrors) {
  CommandResult r = Airflow({"dags", "list-import-errors", "-o", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  HttpResult api = Http("GET", "/api/v2/importErrors", token_);
  ASSERT_EQ(api.status, 200) << api.body;
  EXPECT_EQ(api.Json()["total_entries"], 0) << api.body;
}

TEST_F(AirflowTest, AirflowListsExactlyTheFourDagsWithTheirSchedules) {
  CommandResult cli = Airflow({"dags", "list", "-o", "json"});
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  const json listed = json::parse(cli.output.substr(cli.output.find('[')));
  std::set<std::string> ids;
  for (const auto& d : listed) ids.insert(d["dag_id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{"build_dwh_layer", "data_quality_checks", "init_data_pipeline",
                                        "streaming_to_clickhouse"}));

  ASSERT_EQ(dags_.size(), ExpectedDags().size()) << dags_.dump(2);
  for (const auto& d : dags_) {
    const std::string id = d["dag_id"];
    SCOPED_TRACE(id);
    const auto& summary = d["timetable_summary"];
    EXPECT_EQ(summary.is_null() ? "" : summary.get<std::string>(), ExpectedDags().at(id).schedule);
    EXPECT_EQ(d["max_active_runs"], 1);
    HttpResult details = Http("GET", "/api/v2/dags/" + id + "/details", token_);
    ASSERT_EQ(details.status, 200) << details.body;
    EXPECT_EQ(details.Json()["catchup"], false);
  }
  // Created paused, so the hourly checks cannot start with the scheduler, before ./run.sh has
  // loaded the samples (scripts/airflow-bootstrap.sh runs them, then unpauses them).
  for (const auto& d : dags_) {
    if (d["dag_id"] == "data_quality_checks") {
      EXPECT_EQ(d["is_paused"], true) << d.dump();
    }
  }
}

TEST_F(AirflowTest, TaskIdsDependenciesAndRetriesAreTheDesignsAsAirflowSeesThem) {
  for (const auto& [id, expected] : ExpectedDags()) {
    SCOPED_TRACE(id);
    HttpResult r = Http("GET", "/api/v2/dags/" + id + "/tasks", token_);
    ASSERT_EQ(r.status, 200) << r.body;
    std::map<std::string, std::set<std::string>> downstream;
    const json doc = r.Json();
    for (const auto& task : doc["tasks"]) {
      const std::string task_id = task["task_id"];
      downstream[task_id] = task["downstream_task_ids"].get<std::set<std::string>>();
      EXPECT_GE(task["retries"].get<double>(), 1) << task_id;
      // A flag in older Airflow, the backoff multiplier (2.0) since 3.3.
      const json& backoff = task["retry_exponential_backoff"];
      EXPECT_TRUE(backoff.is_boolean() ? backoff.get<bool>() : backoff.is_number() && backoff.get<double>() > 1)
          << task_id << ": " << backoff;
      EXPECT_FALSE(task["execution_timeout"].is_null()) << task_id;
    }
    EXPECT_EQ(downstream, expected.downstream);
  }
}

TEST_F(AirflowTest, UiAnswersAndLoginWorksWithAdminOnly) {
  HttpResult page = Http("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<html"), std::string::npos) << page.body.substr(0, 300);
  EXPECT_EQ(Http("GET", "/api/v2/monitor/health").status, 200);
  EXPECT_FALSE(Token("admin", StackConfig().stack.airflow_password).empty());
  EXPECT_EQ(Http("POST", "/auth/token", "", R"({"username": "admin", "password": "wrong"})").status, 401);
  EXPECT_EQ(Http("GET", "/api/v2/dags").status, 401) << "the API must need a token";

  // The health document reports every Airflow process of the stack.
  const json health = Http("GET", "/api/v2/monitor/health").Json();
  for (const char* process : {"metadatabase", "scheduler", "dag_processor", "triggerer"}) {
    EXPECT_EQ(health[process]["status"], "healthy") << process << ": " << health.dump();
  }
}

// The UI in headless Chromium (tests/e2e/airflow_ui.mjs): a wrong password is refused, admin
// signs in and the DAG list shows the four DAGs; screenshots in <build>/screenshots/airflow-*.
TEST_F(AirflowTest, BrowserSignsInAndSeesTheFourDags) {
  CommandResult r =
      RunBrowserTest("airflow_ui.mjs", {BaseUrl(), StackConfig().stack.airflow_password, ScreenshotDir().string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(ScreenshotDir() / "airflow-dags.png"));
}

TEST_F(AirflowTest, TheFourDagsRunEndToEndOnTheSamplesAndTheSeedQueriesCountThem) {
  // Start from empty tables. Kafka still holds other tests' messages: record them as already
  // handled, the way the loader records its own progress (docs/design.md#exactly-once: the highest offset per
  // partition in staging or dead letters), so the DAGs load the samples and nothing else.
  std::istringstream tables(client_.Query("SELECT name FROM system.tables WHERE database = " + Quote(db_) +
                                              " AND engine LIKE '%MergeTree' AND name != 'schema_migrations'",
                                          "TabSeparated"));
  for (std::string t; std::getline(tables, t);) client_.Execute("TRUNCATE TABLE " + db_ + "." + t);
  kafka::Admin admin(StackConfig().kafka.bootstrap_servers);
  for (const auto& topic : admin.Describe(TopicNames())) {
    for (const auto& p : topic.partitions) {
      if (p.high_watermark <= 0) continue;
      client_.Execute("INSERT INTO " + db_ +
                      ".ingest_errors (_topic, _partition, _offset, raw, error, _ingested_at) "
                      "VALUES (" +
                      Quote(topic.name) + ", " + std::to_string(p.id) + ", " + std::to_string(p.high_watermark - 1) +
                      ", '', 'airflow_test: skipped earlier tests', "
                      "now() - INTERVAL 1 DAY)");
    }
  }

  for (const char* dag : {"init_data_pipeline", "streaming_to_clickhouse", "build_dwh_layer", "data_quality_checks"}) {
    const auto begin = Clock::now();
    CommandResult r = Airflow({"dags", "test", dag});
    const double secs = std::chrono::duration<double>(Clock::now() - begin).count();
    std::cout << "airflow dags test " << dag << ": exit " << r.exit_code << " in " << secs << " s\n";
    RecordProperty(std::string(dag) + "_seconds", std::to_string(secs));
    ASSERT_EQ(r.exit_code, 0) << dag << ":\n"
                              << (r.output.size() > 20000 ? r.output.substr(r.output.size() - 20000) : r.output);
  }

  const auto types = SampleEventTypes();
  std::map<std::string, int64_t> per_type;
  for (const auto& [id, type] : types) per_type[type]++;
  std::string expected;
  for (const auto& [type, n] : per_type) expected += type + "\t" + std::to_string(n) + "\n";
  ASSERT_GT(types.size(), 900u);

  EXPECT_EQ(client_.QueryInt("SELECT count() FROM analytics.fact_events"), static_cast<int64_t>(types.size()));
  EXPECT_EQ(client_.QueryInt("SELECT uniqExact(event_id) FROM analytics.fact_events"),
            static_cast<int64_t>(types.size()));
  // The reference query (docs/design.md#reference-queries), verbatim but for a stable order.
  EXPECT_EQ(
      client_.Query("SELECT event_type, count() FROM analytics.fact_events GROUP BY event_type ORDER BY event_type",
                    "TabSeparated"),
      expected);
  EXPECT_EQ(client_.QueryInt("SELECT sum(total_events) FROM (SELECT utm_source, utm_campaign, "
                             "countMerge(total_events) AS total_events, uniqMerge(unique_users) AS unique_users "
                             "FROM analytics.agg_traffic_sources GROUP BY utm_source, utm_campaign "
                             "ORDER BY total_events DESC)"),
            static_cast<int64_t>(types.size()));
  EXPECT_GT(client_.QueryInt("SELECT count() FROM analytics.dim_users"), 0);
  EXPECT_GT(client_.QueryInt("SELECT count() FROM analytics.dim_geo"), 0);
  // Every quality check recorded results, none failed.
  EXPECT_EQ(client_.QueryInt("SELECT uniqExact(check) FROM analytics.quality_results"), 5);
  EXPECT_EQ(client_.QueryInt("SELECT count() FROM analytics.quality_results WHERE status = 'fail'"), 0);
}

// A run's or task's "state" (null before the scheduler has looked at it).
std::string StateOf(const json& doc) {
  return doc.contains("state") && doc["state"].is_string() ? doc["state"].get<std::string>() : "";
}

// The state of a DAG run, polled through the REST API until it ends or `limit` passes.
std::string WaitForRun(const std::string& token, const std::string& dag, const std::string& run_id,
                       std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  std::string state;
  while (Clock::now() < deadline) {
    HttpResult r = Http("GET", "/api/v2/dags/" + dag + "/dagRuns/" + run_id, token);
    if (r.status == 200) state = StateOf(r.Json());
    if (state == "success" || state == "failed") return state;
    std::this_thread::sleep_for(std::chrono::seconds(3));
  }
  return state;
}

TEST_F(AirflowTest, SchedulerCreatesAStreamingRunOnItsOwnOnceUnpaused) {
  ASSERT_EQ(Http("PATCH", "/api/v2/dags/streaming_to_clickhouse", token_, R"({"is_paused": false})").status, 200);
  // catchup is off and the start date is in the past: the latest interval is due at once.
  std::string run_id;
  const auto deadline = Clock::now() + std::chrono::minutes(6);
  while (run_id.empty() && Clock::now() < deadline) {
    HttpResult r = Http("GET", "/api/v2/dags/streaming_to_clickhouse/dagRuns?run_type=scheduled", token_);
    if (r.status == 200 && !r.Json()["dag_runs"].empty()) run_id = r.Json()["dag_runs"][0]["dag_run_id"];
    if (run_id.empty()) std::this_thread::sleep_for(std::chrono::seconds(3));
  }
  // Paused again only once the run ended: the scheduler leaves a paused DAG's runs alone.
  const std::string state =
      run_id.empty() ? "" : WaitForRun(token_, "streaming_to_clickhouse", run_id, std::chrono::minutes(8));
  Http("PATCH", "/api/v2/dags/streaming_to_clickhouse", token_, R"({"is_paused": true})");
  ASSERT_FALSE(run_id.empty()) << "the scheduler created no run";
  EXPECT_EQ(state, "success");
}

// ./run.sh's last Airflow step, once the samples are loaded and the warehouse built:
// scripts/airflow-bootstrap.sh quality runs data_quality_checks (it never ran: its runs are
// deleted first), waits for the run, and only then unpauses the hourly schedule.
TEST_F(AirflowTest, BootstrapRunsTheQualityChecksOnceThenUnpausesThem) {
  const std::string dag = "data_quality_checks";
  HttpResult runs = Http("GET", "/api/v2/dags/" + dag + "/dagRuns?limit=100", token_);
  ASSERT_EQ(runs.status, 200) << runs.body;
  for (const auto& run : runs.Json()["dag_runs"]) {
    Http("DELETE", "/api/v2/dags/" + dag + "/dagRuns/" + run["dag_run_id"].get<std::string>(), token_);
  }
  ASSERT_EQ(Http("GET", "/api/v2/dags/" + dag, token_).Json()["is_paused"], true);

  CommandResult r = RunProgram({(fs::path(CLICKFLOW_SOURCE_DIR) / "scripts" / "airflow-bootstrap.sh").string(),
                                BaseUrl(), StackConfig().stack.airflow_password, "quality"});
  const bool unpaused = Http("GET", "/api/v2/dags/" + dag, token_).Json()["is_paused"] == false;
  const json after = Http("GET", "/api/v2/dags/" + dag + "/dagRuns?run_type=manual", token_).Json();

  // Paused again once the scheduled run the unpause made due has ended (the scheduler leaves a
  // paused DAG's runs alone).
  const auto deadline = Clock::now() + std::chrono::minutes(3);
  std::string scheduled;
  while (unpaused && scheduled.empty() && Clock::now() < deadline) {
    HttpResult s = Http("GET", "/api/v2/dags/" + dag + "/dagRuns?run_type=scheduled", token_);
    if (s.status == 200 && !s.Json()["dag_runs"].empty()) scheduled = s.Json()["dag_runs"][0]["dag_run_id"];
    if (scheduled.empty()) std::this_thread::sleep_for(std::chrono::seconds(3));
  }
  if (!scheduled.empty()) WaitForRun(token_, dag, scheduled, std::chrono::minutes(8));
  Http("PATCH", "/api/v2/dags/" + dag, token_, R"({"is_paused": true})");

  EXPECT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(after["total_entries"], 1) << after.dump(2);
  EXPECT_EQ(StateOf(after["dag_runs"][0]), "success") << r.output;
  EXPECT_NE(r.output.find(dag + " " + after["dag_runs"][0]["dag_run_id"].get<std::string>() + ": success"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(unpaused) << "data_quality_checks must be unpaused once its first run ended";
}

TEST_F(AirflowTest, ATaskThatFailsOnceIsRetriedAndTheRunSucceeds) {
  // The run's conf points at a folder that is still empty: the loads fail; once their first
  // try has failed the files appear, and the retry (after the backoff) loads them.
  const fs::path dir = fs::temp_directory_path() / "clickflow-airflow-retry";
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_EQ(Http("PATCH", "/api/v2/dags/init_data_pipeline", token_, R"({"is_paused": false})").status, 200);
  HttpResult trigger = Http("POST", "/api/v2/dags/init_data_pipeline/dagRuns", token_,
                            json{{"logical_date", nullptr}, {"conf", {{"data_dir", dir.string()}}}}.dump());
  ASSERT_TRUE(trigger.status == 200 || trigger.status == 201) << trigger.body;
  const std::string run_id = trigger.Json()["dag_run_id"];
  const std::string task_url =
      "/api/v2/dags/init_data_pipeline/dagRuns/" + run_id + "/taskInstances/load_browser_events";

  std::string state;
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  while (state != "up_for_retry" && Clock::now() < deadline) {
    HttpResult r = Http("GET", task_url, token_);
    if (r.status == 200) state = StateOf(r.Json());
    ASSERT_NE(state, "success") << "succeeded without its files";
    ASSERT_NE(state, "failed") << "failed without a retry";
    if (state != "up_for_retry") std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  ASSERT_EQ(state, "up_for_retry");
  CommandResult gen = Clickflow({"generate", "--out", dir.string(), "--events", "50", "--seed", "7"});
  ASSERT_EQ(gen.exit_code, 0) << gen.output;

  const std::string final_state = WaitForRun(token_, "init_data_pipeline", run_id, std::chrono::minutes(8));
  Http("PATCH", "/api/v2/dags/init_data_pipeline", token_, R"({"is_paused": true})");
  EXPECT_EQ(final_state, "success");
  HttpResult task = Http("GET", task_url, token_);
  ASSERT_EQ(task.status, 200);
  EXPECT_EQ(task.Json()["state"], "success");
  EXPECT_EQ(task.Json()["try_number"], 2);
  fs::remove_all(dir);
}

// Processes whose process group is `pgid` (from /proc/<pid>/stat: the fields after the command).
std::vector<pid_t> ProcessesInGroup(pid_t pgid) {
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 1));
    std::string state;
    pid_t ppid = 0, group = 0;
    if (fields >> state >> ppid >> group && group == pgid && state != "Z") found.push_back(std::stoi(name));
  }
  return found;
}

// The scheduler's pid once the supervisor reports it healthy (0 if not within two minutes).
pid_t HealthySchedulerPid(pid_t other_than = 0) {
  for (int i = 0; i < 120; ++i) {
    CommandResult status = Clickflow({"stack", "status", "--json"});
    const json parsed = json::parse(status.output, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) {
      for (const auto& c : parsed["components"]) {
        if (c["name"] != "airflow-scheduler" || c["state"] != "healthy") continue;
        const auto pid = c["pid"].get<pid_t>();
        if (pid > 0 && pid != other_than) return pid;
      }
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return 0;
}

// The chaos soak kills the scheduler with -9; its LocalExecutor workers (same process group)
// must go with it, or they outlive the stack and PostgreSQL's shutdown waits for them.
TEST_F(AirflowTest, ASchedulerKilledWithSigkillLeavesNoWorkerBehind) {
  const pid_t scheduler = HealthySchedulerPid();
  ASSERT_GT(scheduler, 0) << Clickflow({"stack", "status"}).output;
  std::vector<pid_t> group;
  for (int i = 0; i < 60 && group.size() < 2; ++i) {  // the scheduler and at least one worker
    group = ProcessesInGroup(scheduler);
    if (group.size() < 2) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  ASSERT_GE(group.size(), 2u) << "no worker in the scheduler's process group to test with";
  ASSERT_EQ(::kill(scheduler, SIGKILL), 0);
  // Restarted with backoff (1 s after a stable run), then healthy again.
  const pid_t restarted = HealthySchedulerPid(scheduler);
  ASSERT_NE(restarted, 0) << "the supervisor did not restart the scheduler";
  EXPECT_EQ(ProcessesInGroup(scheduler), std::vector<pid_t>{}) << "workers of the killed scheduler still run";
}

}  // namespace
}  // namespace clickflow
