#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <variant>
#include <vector>

#include "clickflow_source_dir.h"
#include "common/error.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;

// One entry per configurable key: the table drives YAML parsing, env overrides, validation
// and ToYaml, so a new key is added in exactly one place.
struct Field {
  std::string section;  // empty for top-level keys
  std::string key;
  std::variant<std::string*, int*, bool*, fs::path*, double*> target;
  // Inclusive range of int and double fields.
  long min = std::numeric_limits<int>::min();
  long max = std::numeric_limits<int>::max();

  std::string Name() const { return section.empty() ? key : section + "." + key; }
  std::string EnvName() const {
    std::string name = "CLICKFLOW_" + (section.empty() ? key : section + "_" + key);
    std::transform(name.begin(), name.end(), name.begin(), ::toupper);
    return name;
  }
};

constexpr long kMaxPort = 65535;

std::vector<Field> Fields(Config& c) {
  return {
      {"", "data_dir", &c.data_dir},
      {"", "resources_dir", &c.resources_dir},
      {"kafka", "bootstrap_servers", &c.kafka.bootstrap_servers},
      {"kafka", "topic_partitions", &c.kafka.topic_partitions, 1, 1000},
      {"kafka", "retention_hours", &c.kafka.retention_hours, 1, 24 * 365 * 10},
      // The broker's group.min/max.session.timeout.ms defaults.
      {"kafka", "session_timeout_ms", &c.kafka.session_timeout_ms, 6000, 1'800'000},
      {"clickhouse", "url", &c.clickhouse.url},
      {"clickhouse", "database", &c.clickhouse.database},
      {"clickhouse", "user", &c.clickhouse.user},
      {"clickhouse", "password", &c.clickhouse.password},
      {"clickhouse", "readonly_user", &c.clickhouse.readonly_user},
      {"clickhouse", "readonly_password", &c.clickhouse.readonly_password},
      // At most max_insert_block_size (1,048,576) rows, so that one INSERT stays one block, one part.
      {"pipeline", "batch_size", &c.pipeline.batch_size, 1, 1'000'000},
      {"pipeline", "backlog_batch_size", &c.pipeline.backlog_batch_size, 1, 1'000'000},
      // At most 1 GiB: an INSERT body ClickHouse parses in one go, and far below what 64-bit
      // stamp positions (ingest/staging_batch.h) could address.
      {"pipeline", "batch_max_bytes", &c.pipeline.batch_max_bytes, 64 << 10, 1 << 30},
      {"pipeline", "max_message_bytes", &c.pipeline.max_message_bytes, 1 << 10, 256 << 20},
      {"pipeline", "flush_interval_ms", &c.pipeline.flush_interval_ms, 1, 3'600'000},
      {"pipeline", "staging_keep_days", &c.pipeline.staging_keep_days, 0, 100'000},
      {"pipeline", "staging_ttl_days", &c.pipeline.staging_ttl_days, 1, 100'000},
      {"pipeline", "fact_ttl_days", &c.pipeline.fact_ttl_days, 1, 100'000},
      {"stack", "host", &c.stack.host},
      {"stack", "postgres_port", &c.stack.postgres_port, 1, kMaxPort},
      {"stack", "postgres_user", &c.stack.postgres_user},
      {"stack", "postgres_password", &c.stack.postgres_password},
      {"stack", "kafka_controller_port", &c.stack.kafka_controller_port, 1, kMaxPort},
      {"stack", "kafka_heap_mb", &c.stack.kafka_heap_mb, 128, 65536},
      {"stack", "clickhouse_tcp_port", &c.stack.clickhouse_tcp_port, 1, kMaxPort},
      {"stack", "clickhouse_engine", &c.stack.clickhouse_engine},
      {"stack", "airflow_port", &c.stack.airflow_port, 1, kMaxPort},
      {"stack", "superset_port", &c.stack.superset_port, 1, kMaxPort},
      {"stack", "metrics_port", &c.stack.metrics_port, 1, kMaxPort},
      {"stack", "status_port", &c.stack.status_port, 1, kMaxPort},
      {"stack", "streaming", &c.stack.streaming},
      {"stack", "airflow", &c.stack.airflow},
      {"stack", "airflow_password", &c.stack.airflow_password},
      {"stack", "superset", &c.stack.superset},
      {"stack", "superset_password", &c.stack.superset_password},
      {"stack", "deps_dir", &c.stack.deps_dir},
      {"quality", "max_ingestion_age_minutes", &c.quality.max_ingestion_age_minutes, 1, 525'600},
      {"quality", "max_event_age_minutes", &c.quality.max_event_age_minutes, 1, 5'256'000},
      {"quality", "max_build_lag_minutes", &c.quality.max_build_lag_minutes, 1, 525'600},
      {"quality", "max_future_skew_minutes", &c.quality.max_future_skew_minutes, 0, 525'600},
      {"quality", "max_null_share", &c.quality.max_null_share, 0, 1},
      {"quality", "max_missing_dimension_share", &c.quality.max_missing_dimension_share, 0, 1},
      {"quality", "max_staging_duplicate_share", &c.quality.max_staging_duplicate_share, 0, 1},
      {"quality", "reports_dir", &c.quality.reports_dir},
  };
}

[[noreturn]] void Fail(const std::string& source, const std::string& key, const std::string& what) {
  throw Error(source + ": " + key + ": " + what);
}

// Sets a field from its textual form (YAML scalar or environment value).
void Assign(const Field& field, const std::string& text, const std::string& source, const fs::path& base_dir) {
  if (auto* s = std::get_if<std::string*>(&field.target)) {
    **s = text;
  } else if (auto* p = std::get_if<fs::path*>(&field.target)) {
    fs::path value = text;
    **p = value.is_relative() && !text.empty() ? base_dir / value : value;
  } else if (auto* b = std::get_if<bool*>(&field.target)) {
    if (text == "true" || text == "yes" || text == "on" || text == "1") {
      **b = true;
    } else if (text == "false" || text == "no" || text == "off" || text == "0") {
      **b = false;
    } else {
      Fail(source, field.Name(), "expected true or false, got '" + text + "'");
    }
  } else if (auto* d = std::get_if<double*>(&field.target)) {
    double value = 0;
    size_t used = 0;
    try {
      value = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != text.size() || !std::isfinite(value)) {
      Fail(source, field.Name(), "expected a number, got '" + text + "'");
    }
    if (value < field.min || value > field.max) {
      Fail(source, field.Name(),
           "value " + text + " is out of range [" + std::to_string(field.min) + ", " + std::to_string(field.max) + "]");
    }
    **d = value;
  } else {
    long value = 0;
    size_t used = 0;
    try {
      value = std::stol(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != text.size()) {
      Fail(source, field.Name(), "expected an integer, got '" + text + "'");
    }
    if (value < field.min || value > field.max) {
      Fail(source, field.Name(),
           "value " + text + " is out of range [" + std::to_string(field.min) + ", " + std::to_string(field.max) + "]");
    }
    *std::get<int*>(field.target) = static_cast<int>(value);
  }
}

const Field* Find(const std::vector<Field>& fields, const std::string& section, const std::string& key) {
  for (const auto& f : fields) {
    if (f.section == section && f.key == key) return &f;
  }
  return nullptr;
}

bool IsSection(const std::vector<Field>& fields, const std::string& name) {
  return std::any_of(fields.begin(), fields.end(), [&](const Field& f) { return f.section == name; });
}

void AssignNode(const Field& field, const YAML::Node& node, const std::string& source, const fs::path& base_dir) {
  if (!node.IsScalar()) Fail(source, field.Name(), "expected a single value, not a list or map");
  Assign(field, node.Scalar(), source, base_dir);
}

// A mapping key as text; a list or map used as a key ("? [a]") is an error naming the file,
// not a yaml-cpp conversion exception.
std::string KeyName(const YAML::Node& key, const std::string& source, const std::string& section) {
  if (!key.IsScalar() && !key.IsNull()) {
    Fail(source, section.empty() ? "top level" : section, "expected a key name, not a list or map");
  }
  return key.as<std::string>();
}

void ApplyYaml(const YAML::Node& root, std::vector<Field>& fields, const std::string& source,
               const fs::path& base_dir) {
  if (!root || root.IsNull()) return;
  if (!root.IsMap()) throw Error(source + ": the top level must be a map of sections");
  for (const auto& entry : root) {
    const std::string name = KeyName(entry.first, source, "");
    if (const Field* top = Find(fields, "", name)) {
      AssignNode(*top, entry.second, source, base_dir);
      continue;
    }
    if (!IsSection(fields, name)) Fail(source, name, "unknown key");
    if (entry.second.IsNull()) continue;
    if (!entry.second.IsMap()) Fail(source, name, "expected a map of keys");
    for (const auto& item : entry.second) {
      const std::string key = KeyName(item.first, source, name);
      const Field* field = Find(fields, name, key);
      if (!field) Fail(source, name + "." + key, "unknown key");
      AssignNode(*field, item.second, source, base_dir);
    }
  }
}

void ApplyEnvironment(std::vector<Field>& fields) {
  const fs::path cwd = fs::current_path();
  for (const auto& field : fields) {
    const std::string env = field.EnvName();
    if (const char* value = std::getenv(env.c_str())) {
      Assign(field, value, "environment variable " + env, cwd);
    }
  }
}

void Validate(Config& c) {
  auto check_url = [&](const std::string& key, const std::string& url) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      Fail(c.source, key, "expected an http:// or https:// URL, got '" + url + "'");
    }
  };
  check_url("clickhouse.url", c.clickhouse.url);
  if (c.kafka.bootstrap_servers.empty()) Fail(c.source, "kafka.bootstrap_servers", "must not be empty");
  if (c.clickhouse.database.empty()) Fail(c.source, "clickhouse.database", "must not be empty");
  for (char ch : c.clickhouse.database) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) {
      Fail(c.source, "clickhouse.database", "only letters, digits and _ are allowed");
    }
  }
  if (c.pipeline.staging_keep_days > c.pipeline.staging_ttl_days) {
    Fail(c.source, "pipeline.staging_keep_days", "must not exceed pipeline.staging_ttl_days");
  }
  if (c.stack.clickhouse_engine != "chdb" && c.stack.clickhouse_engine != "debian") {
    Fail(c.source, "stack.clickhouse_engine", "expected chdb or debian, got '" + c.stack.clickhouse_engine + "'");
  }
  if (c.pipeline.max_message_bytes > c.pipeline.batch_max_bytes) {
    Fail(c.source, "pipeline.max_message_bytes", "must not exceed pipeline.batch_max_bytes");
  }
}

Config Finish(Config c) {
  std::vector<Field> fields = Fields(c);
  ApplyEnvironment(fields);
  if (c.resources_dir.empty()) c.resources_dir = CLICKFLOW_SOURCE_DIR;
  c.data_dir = fs::absolute(c.data_dir).lexically_normal();
  c.resources_dir = fs::absolute(c.resources_dir).lexically_normal();
  Validate(c);
  return c;
}

}  // namespace

fs::path Config::DepsDir() const { return stack.deps_dir.empty() ? data_dir / "deps" : fs::path(stack.deps_dir); }

Config ParseConfig(const std::string& yaml_text, const std::string& source_name, const fs::path& base_dir) {
  Config c;
  c.source = source_name;
  std::vector<Field> fields = Fields(c);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw Error(source_name + ": not valid YAML: " + e.what());
  }
  ApplyYaml(root, fields, source_name, base_dir);
  return c;
}

Config LoadConfig(const std::string& path) {
  std::string chosen = path;
  if (chosen.empty()) {
    if (const char* env = std::getenv("CLICKFLOW_CONFIG")) chosen = env;
  }
  if (chosen.empty() && fs::exists("clickflow.yaml")) chosen = "clickflow.yaml";
  if (chosen.empty()) return Finish(Config{});

  std::ifstream in(chosen);
  if (!in) throw Error(chosen + ": cannot read the config file");
  std::stringstream text;
  text << in.rdbuf();
  const fs::path base = fs::absolute(chosen).parent_path();
  return Finish(ParseConfig(text.str(), chosen, base));
}

std::string ToYaml(const Config& config) {
  Config copy = config;
  std::vector<Field> fields = Fields(copy);
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::string open_section;
  for (const auto& f : fields) {
    if (f.section != open_section) {
      if (!open_section.empty()) out << YAML::EndMap;
      if (!f.section.empty()) out << YAML::Key << f.section << YAML::Value << YAML::BeginMap;
      open_section = f.section;
    }
    out << YAML::Key << f.key << YAML::Value;
    // yaml-cpp writes a text ending in '\r' as a plain scalar, and reading it back drops the
    // '\r': quote such texts.
    auto emit_text = [&](const std::string& value) {
      if (value.find('\r') != std::string::npos) out << YAML::DoubleQuoted;
      out << value;
    };
    std::visit(
        [&](auto* p) {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_same_v<T, fs::path>) {
            emit_text(p->string());
          } else if constexpr (std::is_same_v<T, std::string>) {
            emit_text(*p);
          } else if constexpr (std::is_same_v<T, double>) {
            // Shortest text that reads back as the same value: 0.05, not 0.050000000000000003.
            char text[32];
            out << std::string(text, std::to_chars(text, text + sizeof text, *p).ptr);
          } else {
            out << *p;
          }
        },
        f.target);
  }
  if (!open_section.empty()) out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace clickflow
