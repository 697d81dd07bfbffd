#pragma once
// Validates one JSON line against its topic's schema and appends it to a RowBinary buffer
// (ClickHouse's cheapest insert format to parse: no text-to-number conversion on the server).
// Parsing uses simdjson (DOM API, runtime-dispatched SIMD kernels).
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/event_schema.h"
#include "ingest/timestamp.h"

namespace clickflow {

// Where a line came from and the batch it joins; every row carries these columns.
struct RowOrigin {
  std::string_view topic;
  uint16_t partition = 0;
  uint64_t offset = 0;
  uint32_t ingested_at = 0;  // one stamp for the whole batch
};

class RowEncoder {
 public:
  // Dead letters of lines over the limit keep this much of the line at most.
  static constexpr size_t kOversizedRawPrefix = 1024;

  // Lines longer than `max_message_bytes` (pipeline.max_message_bytes) are rejected unparsed.
  explicit RowEncoder(size_t max_message_bytes);

  // Appends the row to `out` and returns true, or leaves `out` unchanged, sets `error` to a
  // reason a person can act on ("missing event_id", "event_timestamp: not a timestamp: ...",
  // "message of 5000000 bytes is over ...") and returns false.
  bool Encode(const TopicSchema& schema, std::string_view json, const RowOrigin& origin, std::string& out,
              std::string& error);

  // Appends a dead-letter row (topic, partition, offset, raw, error, ingested_at). A line over
  // the limit keeps only RawKept(raw) as raw, so dead letters are bounded as batches are.
  void EncodeDeadLetter(std::string_view raw, std::string_view error, const RowOrigin& origin, std::string& out) const;

  // What a dead letter keeps of `raw`: all of it up to the limit, else a prefix of at most
  // kOversizedRawPrefix bytes that does not end inside a UTF-8 character.
  std::string_view RawKept(std::string_view raw) const;

 private:
  size_t max_message_bytes_;
  simdjson::dom::parser parser_;
  std::string padded_;  // the line copied with simdjson's required padding
  // Values of the current line, by schema field index.
  struct Slot {
    bool present = false;
    std::string_view text;  // strings and timestamps: views into the parser, valid until the next line
    double number = 0;
    bool flag = false;
  };
  std::vector<Slot> slots_;
  std::vector<Timestamp> timestamps_;

  // The three steps of Encode: fill slots_ from the JSON line, validate them (required fields,
  // timestamps), then append the row. The first two return false with `error` set.
  bool ReadSlots(const TopicSchema& schema, std::string_view json, std::string& error);
  bool CheckSlots(const TopicSchema& schema, std::string& error);
  void WriteRow(const TopicSchema& schema, const RowOrigin& origin, std::string& out) const;
};

// RowBinary primitives (little-endian, strings as LEB128 length + bytes).
void AppendString(std::string& out, std::string_view value);
void AppendUInt8(std::string& out, uint8_t value);
void AppendUInt16(std::string& out, uint16_t value);
void AppendUInt32(std::string& out, uint32_t value);
void AppendUInt64(std::string& out, uint64_t value);
void AppendFloat64(std::string& out, double value);

}  // namespace clickflow
