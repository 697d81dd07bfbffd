#pragma once
// clickflow.yaml: one file, every key overridable by CLICKFLOW_<SECTION>_<KEY>.
// Unknown keys and bad values fail with a message that names the key and the file.
#include <filesystem>
#include <string>

namespace clickflow {

struct KafkaConfig {
  std::string bootstrap_servers = "127.0.0.1:9092";
  int topic_partitions = 3;
  int retention_hours = 168;
  // How long the loaders' consumer group waits for a silent member (a crash, a stall) before
  // giving its partitions to another: the longest a killed loader's partitions stay unloaded.
  int session_timeout_ms = 45'000;
};

struct ClickHouseConfig {
  std::string url = "http://127.0.0.1:8123";
  std::string database = "analytics";
  std::string user = "clickflow";
  std::string password = "clickhouse";
  // The read-only account dashboards use (readonly=1, execution and row limits).
  std::string readonly_user = "dashboards";
  std::string readonly_password = "dashboards";
};

struct PipelineConfig {
  int batch_size = 1000;
  // While more than a batch is waiting in Kafka, batches grow up to this many rows per table:
  // each INSERT costs ClickHouse a part, so a backlog is cleared with fewer, larger ones.
  int backlog_batch_size = 100'000;
  // A batch is also flushed when its RowBinary (staging tables and dead letters together)
  // reaches this many bytes, whatever its rows: the loader holds two batches (one filling, one
  // in flight), so this bounds its memory however large the messages are. The default is above
  // what backlog_batch_size rows of each topic take (about 72 MB of the sample events'
  // RowBinary), so it acts on unusually large messages only: backlog batches stay as tuned.
  int batch_max_bytes = 128 << 20;
  // A message longer than this is not parsed: it goes to the dead letters with its size in the
  // reason and only a prefix of its text (RowEncoder), so one huge message cannot blow a batch.
  int max_message_bytes = 1 << 20;
  int flush_interval_ms = 1000;
  int staging_keep_days = 7;
  int staging_ttl_days = 90;
  int fact_ttl_days = 365;
};

// Local stack (`clickflow stack`): the listeners not already named by kafka/clickhouse urls.
struct StackConfig {
  std::string host = "127.0.0.1";
  int postgres_port = 5432;
  std::string postgres_user = "clickflow";
  std::string postgres_password = "clickflow";
  int kafka_controller_port = 9093;
  int kafka_heap_mb = 512;
  int clickhouse_tcp_port = 9000;
  // Which ClickHouse the stack runs: "chdb" (26.9, the engine of PyPI's chdb-core) or "debian"
  // (Debian's clickhouse-server 18.16). docs/clickhouse.md compares them.
  std::string clickhouse_engine = "chdb";
  int airflow_port = 8080;
  int superset_port = 8088;
  int metrics_port = 9464;
  // The supervisor's summary endpoint: GET /status (JSON, as `stack status --json`) and
  // /metrics (Prometheus: components up, restarts, memory; topic lag; warehouse freshness).
  int status_port = 9465;
  bool streaming = false;
  // Run Airflow (api-server, scheduler, dag-processor, triggerer) in the stack.
  bool airflow = true;
  // Password of Airflow's `admin` login; the default is refused off loopback.
  std::string airflow_password = "admin";
  // Run Superset (gunicorn on superset_port) with the dashboards of superset/assets/.
  bool superset = true;
  // Password of Superset's `admin` login; the default is refused off loopback.
  std::string superset_password = "admin";
  // Where scripts/install-deps.sh put Kafka's jars and the virtualenvs; empty = <data_dir>/deps.
  std::string deps_dir;
};

// Thresholds of `clickflow quality run` (src/quality/quality_checks.h). Shares are fractions
// of rows (0.05 = 5%); ages are minutes.
struct QualityConfig {
  // Newest row of each staging table: older means ingestion stopped (fail).
  int max_ingestion_age_minutes = 60;
  // Newest event in fact_events: only a warning, because event time is the source's clock,
  // and backfills or the shipped samples (a fixed November 2026 start) are legitimately old.
  int max_event_age_minutes = 1440;
  // Newest staging ingestion not yet covered by a warehouse build (fail).
  int max_build_lag_minutes = 60;
  // Events later than now + this are "in the future" (clock skew allowance; fail).
  int max_future_skew_minutes = 5;
  // Rows with an empty critical field (event_id, event_type, event_timestamp, click_id, ...);
  // the loader dead-letters those, so any is a bug (fail).
  double max_null_share = 0.0;
  // Facts without their location, device or geo side, each judged on its own (fail).
  double max_missing_dimension_share = 0.05;
  // Duplicate event_id rows in staging: expected (at-least-once sources, replayed files, the
  // warehouse deduplicates), so above this share is a warning, never a failure.
  double max_staging_duplicate_share = 0.0;
  // Where the Markdown reports go; empty = <data_dir>/reports.
  std::filesystem::path reports_dir;
};

struct Config {
  std::filesystem::path data_dir = "./var";
  // The repository's resources (migrations, templates, DAGs); empty = the source tree built from.
  std::filesystem::path resources_dir;
  KafkaConfig kafka;
  ClickHouseConfig clickhouse;
  PipelineConfig pipeline;
  StackConfig stack;
  QualityConfig quality;

  // Where the values came from, for messages ("defaults" when no file was read).
  std::string source = "defaults";

  std::filesystem::path DepsDir() const;
  std::filesystem::path LogDir() const { return data_dir / "logs"; }
  std::filesystem::path RunDir() const { return data_dir / "run"; }
  std::filesystem::path ReportsDir() const {
    return quality.reports_dir.empty() ? data_dir / "reports" : quality.reports_dir;
  }
  std::filesystem::path Resource(const std::string& relative) const { return resources_dir / relative; }
};

// Loads `path` if non-empty, else $CLICKFLOW_CONFIG, else ./clickflow.yaml if it exists, else
// the defaults; then applies CLICKFLOW_<SECTION>_<KEY> environment overrides and validates.
// Relative paths in a file resolve against the file's folder; all paths come back absolute.
Config LoadConfig(const std::string& path);

// Parses YAML text as if read from `source_name` (used by LoadConfig and by tests).
Config ParseConfig(const std::string& yaml_text, const std::string& source_name, const std::filesystem::path& base_dir);

// Writes the config back as YAML (for rendering test and stack configs).
std::string ToYaml(const Config& config);

}  // namespace clickflow
