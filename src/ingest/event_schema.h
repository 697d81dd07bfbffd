#pragma once
// What each topic's JSON lines hold and which staging table they land in (docs/design.md#input-data, #staging-tables).
// The loader validates against this and encodes rows in exactly this column order.
#include <string>
#include <string_view>
#include <vector>

namespace clickflow {

enum class FieldKind {
  kString,      // JSON string (null = empty)
  kTimestamp,   // string timestamp -> two columns: <name> DateTime, <name>_us UInt32
  kBool,        // JSON bool -> UInt8
  kCoordinate,  // JSON string or number holding a decimal -> Float64, range-checked
};

struct FieldSpec {
  std::string_view name;
  FieldKind kind;
  bool required = false;  // missing, null or empty sends the line to the dead letters
  double min = 0;         // coordinate range
  double max = 0;
};

struct TopicSchema {
  std::string_view topic;
  std::string_view table;      // staging table in the analytics database
  std::string_view key_field;  // Kafka message key (event_id or click_id)
  std::vector<FieldSpec> fields;

  // "(col, col, ..., _topic, _partition, _offset, _ingested_at)" for INSERT.
  std::string ColumnList() const;
};

const std::vector<TopicSchema>& AllTopicSchemas();

// The four topics' names, in the order of AllTopicSchemas: the one list of them (the kafka layer,
// which cannot know ingest, is handed it by its callers).
std::vector<std::string> TopicNames();

// "browser_events, device_events, geo_events, location_events": for messages.
std::string TopicNamesText();

// The JSONL file of a topic's lines, as `clickflow generate` writes and `produce --dir` reads it.
std::string TopicFileName(std::string_view topic);

// nullptr for a topic that is not one of the four.
const TopicSchema* FindTopicSchema(std::string_view topic);

// The dead-letter table and its columns, for INSERT.
constexpr std::string_view kDeadLetterTable = "ingest_errors";
constexpr std::string_view kDeadLetterColumns = "(_topic, _partition, _offset, raw, error, _ingested_at)";

}  // namespace clickflow
