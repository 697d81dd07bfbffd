#pragma once
// Shared body of the event_<topic>_fuzz targets: one JSON line of a topic through the loader's
// validator/encoder (RowEncoder) and the producer's key extraction (KeyExtractor), as the
// loader and `clickflow produce` see lines from Kafka and JSONL files.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/event_schema.h"
#include "ingest/produce.h"
#include "ingest/row_encoder.h"

namespace clickflow::fuzz {

[[noreturn]] inline void Violation(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

// The encoder's pipeline.max_message_bytes here: test.sh fuzzes the event targets with inputs
// up to twice as long, so lines on both sides of the limit are tried.
constexpr size_t kFuzzMaxMessageBytes = 8192;

inline int FuzzEventLine(std::string_view topic, const uint8_t* data, size_t size) {
  // One encoder and one extractor for the whole run, as the loader and producer reuse theirs
  // line after line (state left over from one line must not leak into the next).
  static RowEncoder encoder{kFuzzMaxMessageBytes};
  static const TopicSchema* schema = FindTopicSchema(topic);
  static KeyExtractor keys{std::string(schema->key_field)};
  const std::string_view line(reinterpret_cast<const char*>(data), size);

  // A row already in the batch: a rejected line must leave it byte for byte unchanged.
  static const std::string kPrefix = "previous row";
  std::string out = kPrefix;
  std::string error;
  const RowOrigin origin{topic, 1, 42, 1700000000};
  if (encoder.Encode(*schema, line, origin, out, error)) {
    if (out.size() <= kPrefix.size() || out.compare(0, kPrefix.size(), kPrefix) != 0) {
      Violation("accepted line did not append to the batch");
    }
    if (!error.empty()) Violation("accepted line set an error");
  } else {
    if (out != kPrefix) Violation("rejected line changed the batch");
    if (error.empty()) Violation("rejected line without an error message");
    if (size > kFuzzMaxMessageBytes && error.rfind("message of ", 0) != 0) Violation("oversized line was parsed");
    // The dead letter gets the raw line (a prefix of an oversized one) and the reason.
    std::string dead;
    encoder.EncodeDeadLetter(line, error, origin, dead);
    const std::string_view kept = encoder.RawKept(line);
    if (line.substr(0, kept.size()) != kept) Violation("dead letter raw is not a prefix of the line");
    if (size > kFuzzMaxMessageBytes ? kept.size() > RowEncoder::kOversizedRawPrefix : kept.size() != size) {
      Violation("dead letter raw is not bounded by the limit");
    }
    if (dead.size() > kept.size() + error.size() + 64) Violation("dead letter larger than its columns");
  }

  const std::string_view key = keys.Extract(line);
  if (key.size() > size) Violation("key longer than the line");
  return 0;
}

}  // namespace clickflow::fuzz
