// `clickflow produce` against the shared stack's Kafka, checked with kcat: every non-empty line
// arrives once, keyed by its join key; missing topics and files fail clearly.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "clickflow_source_dir.h"
#include "test_env.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;
using testing::Clickflow;
using testing::RunProgram;
using testing::StackConfig;

const fs::path kSamples = fs::path(CLICKFLOW_SOURCE_DIR) / "data" / "samples";

struct Topic {
  const char* name;
  const char* key_field;
};
const Topic kTopics[] = {{"browser_events", "event_id"},
                         {"device_events", "click_id"},
                         {"geo_events", "click_id"},
                         {"location_events", "event_id"}};

struct Message {
  int partition = 0;
  long offset = 0;
  std::string key;
  std::string value;
};

// Every message of `topic` as kcat sees it: partition, offset, key (empty for null), value.
std::vector<Message> ReadTopic(const std::string& topic) {
  auto r = RunProgram({"kcat", "-b", StackConfig().kafka.bootstrap_servers, "-C", "-t", topic, "-o", "beginning", "-e",
                       "-q", "-f", "%p\t%o\t%k\t%s\n"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<Message> out;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    Message m;
    size_t a = line.find('\t'), b = line.find('\t', a + 1), c = line.find('\t', b + 1);
    if (a == std::string::npos || b == std::string::npos || c == std::string::npos) {
      ADD_FAILURE() << "unexpected kcat line: " << line;
      continue;
    }
    m.partition = std::stoi(line.substr(0, a));
    m.offset = std::stol(line.substr(a + 1, b - a - 1));
    m.key = line.substr(b + 1, c - b - 1);
    m.value = line.substr(c + 1);
    out.push_back(std::move(m));
  }
  return out;
}

// (key, line) for each non-empty line of the file, the key computed independently of
// clickflow (nlohmann::json): the join key of a valid JSON object line, else empty.
std::multiset<std::pair<std::string, std::string>> Expected(const fs::path& file, const std::string& key_field) {
  std::ifstream in(file, std::ios::binary);
  std::multiset<std::pair<std::string, std::string>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::string key;
    auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object() && doc.contains(key_field) && doc[key_field].is_string()) {
      key = doc[key_field].get<std::string>();
    }
    out.emplace(key, line);
  }
  return out;
}

class ProduceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = Clickflow({"topics", "create"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
};

TEST_F(ProduceTest, DirSendsEveryNonEmptyLineKeyedByJoinKey) {
  // Other tests may have sent to these topics before: only the messages after the current
  // end of each partition are ours.
  std::map<std::string, std::map<int, long>> end_before;
  for (const auto& t : kTopics) {
    for (const auto& m : ReadTopic(t.name)) {
      long& end = end_before[t.name][m.partition];
      end = std::max(end, m.offset + 1);
    }
  }

  auto r = Clickflow({"produce", "--dir", kSamples.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  for (const auto& t : kTopics) {
    SCOPED_TRACE(t.name);
    const auto expected = Expected(kSamples / (std::string(t.name) + ".jsonl"), t.key_field);
    ASSERT_GT(expected.size(), 900u);
    std::multiset<std::pair<std::string, std::string>> got;
    for (const auto& m : ReadTopic(t.name)) {
      auto it = end_before[t.name].find(m.partition);
      if (it != end_before[t.name].end() && m.offset < it->second) continue;
      got.emplace(m.key, m.value);
    }
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected) << "messages differ from the file's lines or keys";
    // The summary line reports the same count.
    EXPECT_NE(r.output.find(fmt::format("{:<16} {:>10} lines", t.name, expected.size())), std::string::npos)
        << r.output;
    // The samples hold malformed lines: they are sent too, with a null key.
    size_t null_keys = 0;
    for (const auto& [key, value] : got) null_keys += key.empty();
    EXPECT_GT(null_keys, 0u);
    EXPECT_LT(null_keys, 10u);
  }
}

TEST_F(ProduceTest, SingleTopicFromFile) {
  const fs::path dir = fs::temp_directory_path() / ("produce_it_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "geo.jsonl";
  // CRLF endings, blank lines and a last line without newline: 3 messages. They stay in the shared
  // stack's topic and later suites load them, so each valid line carries the critical geo_country.
  std::ofstream(file, std::ios::binary) << "{\"click_id\":\"k1\",\"geo_country\":\"DE\"}\r\n\r\n\n"
                                           "not json\n{\"click_id\":\"k2\",\"geo_country\":\"FR\"}";
  auto r = Clickflow({"produce", "--topic", "geo_events", "--file", file.string()});
  fs::remove_all(dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(fmt::format("{:<16} {:>10} lines", "geo_events", 3)), std::string::npos) << r.output;

  auto messages = ReadTopic("geo_events");
  ASSERT_GE(messages.size(), 3u);
  // Partitions interleave, so look for ours among all messages of the topic.
  std::multiset<std::pair<std::string, std::string>> all;
  for (const auto& m : messages) all.emplace(m.key, m.value);
  EXPECT_GE(all.count({"k1", "{\"click_id\":\"k1\",\"geo_country\":\"DE\"}"}), 1u);
  EXPECT_GE(all.count({"", "not json"}), 1u);
  EXPECT_GE(all.count({"k2", "{\"click_id\":\"k2\",\"geo_country\":\"FR\"}"}), 1u);
}

TEST_F(ProduceTest, MissingTopicFailsClearly) {
  const std::string topic = "no_such_topic_" + std::to_string(::getpid());
  auto r =
      Clickflow({"produce", "--any-topic", "--topic", topic, "--file", (kSamples / "browser_events.jsonl").string()});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("topic " + topic + " does not exist"), std::string::npos) << r.output;
  // And it was not auto-created by the attempt.
  auto list = Clickflow({"topics", "list"});
  EXPECT_EQ(list.output.find(topic), std::string::npos) << list.output;
}

TEST_F(ProduceTest, TopicOutsideThePlatformIsRejected) {
  auto r = Clickflow({"produce", "--topic", "clicks", "--file", (kSamples / "browser_events.jsonl").string()});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("unknown topic clicks"), std::string::npos) << r.output;
}

TEST_F(ProduceTest, MissingFileFailsClearly) {
  auto r = Clickflow({"produce", "--topic", "browser_events", "--file", "/nonexistent/browser_events.jsonl"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/browser_events.jsonl"), std::string::npos) << r.output;
}

TEST_F(ProduceTest, DirWithMissingFileFailsBeforeSending) {
  const fs::path dir = fs::temp_directory_path() / ("produce_it_dir_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* name : {"browser_events", "device_events", "location_events"}) {
    fs::copy_file(kSamples / (std::string(name) + ".jsonl"), dir / (std::string(name) + ".jsonl"));
  }
  auto r = Clickflow({"produce", "--dir", dir.string()});
  fs::remove_all(dir);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("geo_events.jsonl"), std::string::npos) << r.output;
}

TEST_F(ProduceTest, NeedsExactlyOneForm) {
  auto none = Clickflow({"produce"});
  EXPECT_NE(none.exit_code, 0) << none.output;
  auto both = Clickflow({"produce", "--dir", kSamples.string(), "--topic", "geo_events", "--file", "x"});
  EXPECT_NE(both.exit_code, 0) << both.output;
}

}  // namespace
}  // namespace clickflow
