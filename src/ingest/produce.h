#pragma once
// `clickflow produce`: JSONL files -> Kafka topics. Every non-empty line is sent as it is (the
// loader is the one validator); the key is the record's join key (docs/design.md#kafka-topics), or null
// when the line is not a JSON object with that key as a string.
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "ingest/event_schema.h"  // TopicFileName

namespace clickflow {

// ---- pure parts, tested without Kafka ----

// Calls fn(std::string_view line) for each line of `data` split on '\n', without the '\n' and
// without one trailing '\r'; empty lines (also "\r" alone) are skipped; a last line without a
// newline counts. Returns the number of lines passed to fn.
template <class Fn>
uint64_t ForEachLine(std::string_view data, Fn&& fn);

// Extracts the string value of one top-level field of a JSON object line. Reuses its parser
// and scratch buffer across lines, so one extractor per thread.
class KeyExtractor {
 public:
  explicit KeyExtractor(std::string key_field);

  // The unescaped value of the field; empty when the line is not valid JSON, not an object,
  // lacks the field, or the field is not a string. Valid until the next call.
  std::string_view Extract(std::string_view line);

  const std::string& key_field() const { return key_field_; }

 private:
  std::string key_field_;
  simdjson::dom::parser parser_;
  std::vector<char> scratch_;  // line + SIMDJSON_PADDING, as simdjson reads past the end
};

// A read-only view of a whole file: mmap for regular files (no copy, and the bytes stay valid
// for zero-copy produce until the object dies), a plain read into memory otherwise (pipes).
class InputFile {
 public:
  explicit InputFile(const std::filesystem::path& path);  // throws Error naming the path
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&&) = delete;

  std::string_view data() const { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::string buffer_;  // used when the file could not be mapped
};

// ---- the command ----

struct ProduceJob {
  std::string topic;
  std::filesystem::path file;
  std::string key_field;  // JSON field used as the message key; empty = null keys
};

struct ProduceOptions {
  std::vector<ProduceJob> jobs;
  bool progress = false;  // draw a progress bar on stderr (the CLI sets it when stderr is a tty)
  // Producer property overrides (librdkafka names); empty for the tuned defaults.
  std::map<std::string, std::string> properties;
  std::chrono::milliseconds flush_timeout = std::chrono::minutes(3);
};

struct TopicSummary {
  std::string topic;
  std::filesystem::path file;
  uint64_t lines = 0;      // messages sent
  uint64_t bytes = 0;      // value bytes sent
  uint64_t null_keys = 0;  // lines sent without a key (malformed or key missing)
  uint64_t delivered = 0;
  uint64_t failed = 0;
  double seconds = 0;  // first message queued .. last delivery report
  std::string first_error;
};

// The four (topic, <dir>/<topic>.jsonl) jobs; throws Error naming the first missing file.
std::vector<ProduceJob> JobsForDir(const std::filesystem::path& dir);

// The job for one platform topic, keyed by its join key (FindTopicSchema); throws Error for a
// topic that is not one of the four.
ProduceJob JobForTopic(const std::string& topic, const std::filesystem::path& file);

// Sends each job's file to its topic, one after the other, each flushed before the next so the
// per-topic figures are exact. The topics must exist (checked before the first line is sent). Returns one summary per
// job; delivery failures are in them (the caller decides what they mean), other failures throw Error.
std::vector<TopicSummary> RunProduce(const Config& config, const ProduceOptions& options);

// "browser_events  1011 lines  0.4 MB  in 0.05 s  20220 lines/s  7.1 MB/s  0 failed"
std::string FormatSummary(const TopicSummary& s);

// ---- template definition ----

template <class Fn>
uint64_t ForEachLine(std::string_view data, Fn&& fn) {
  uint64_t count = 0;
  const char* p = data.data();
  const char* end = p + data.size();
  while (p < end) {
    // memchr is vectorised in glibc: this loop runs at memory speed.
    const char* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* line_end = nl ? nl : end;
    size_t len = static_cast<size_t>(line_end - p);
    if (len > 0 && p[len - 1] == '\r') --len;
    if (len > 0) {
      fn(std::string_view(p, len));
      ++count;
    }
    p = nl ? nl + 1 : end;
  }
  return count;
}

}  // namespace clickflow
