#include "ingest/produce.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "clickflow_source_dir.h"
#include "common/error.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Lines(std::string_view data) {
  std::vector<std::string> out;
  uint64_t n = ForEachLine(data, [&](std::string_view line) { out.emplace_back(line); });
  EXPECT_EQ(n, out.size());
  return out;
}

using V = std::vector<std::string>;

TEST(ProduceLinesTest, SplitsOnNewline) { EXPECT_EQ(Lines("a\nbb\nccc\n"), (V{"a", "bb", "ccc"})); }

TEST(ProduceLinesTest, LastLineWithoutNewlineCounts) {
  EXPECT_EQ(Lines("a\nb"), (V{"a", "b"}));
  EXPECT_EQ(Lines("only"), (V{"only"}));
}

TEST(ProduceLinesTest, StripsOneTrailingCarriageReturn) {
  EXPECT_EQ(Lines("a\r\nb\r\nc\r"), (V{"a", "b", "c"}));
  EXPECT_EQ(Lines("a\r\r\n"), (V{"a\r"}));  // only the one before the newline is line ending
  EXPECT_EQ(Lines("x\ry\n"), (V{"x\ry"}));  // a '\r' inside a line is content
}

TEST(ProduceLinesTest, SkipsEmptyLines) {
  EXPECT_EQ(Lines(""), V{});
  EXPECT_EQ(Lines("\n\n\n"), V{});
  EXPECT_EQ(Lines("\r\n\r\n"), V{});
  EXPECT_EQ(Lines("\na\n\n\r\nb\n\n"), (V{"a", "b"}));
  EXPECT_EQ(Lines("\r"), V{});
}

TEST(ProduceLinesTest, WhitespaceOnlyLineIsSent) {
  // Not empty: the loader decides it is not JSON and dead-letters it.
  EXPECT_EQ(Lines("  \n\t\n"), (V{"  ", "\t"}));
}

TEST(ProduceLinesTest, HugeLine) {
  std::string huge(8 << 20, 'x');  // 8 MiB, far beyond any read block
  std::string data = "a\n" + huge + "\r\nb";
  auto lines = Lines(data);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[1].size(), huge.size());
  EXPECT_EQ(lines[1], huge);
  EXPECT_EQ(lines[2], "b");
}

TEST(ProduceLinesTest, ViewsPointIntoTheInput) {
  // Zero-copy produce relies on the lines being views of the file's bytes.
  std::string data = "ab\ncd\n";
  std::vector<const char*> starts;
  ForEachLine(data, [&](std::string_view line) { starts.push_back(line.data()); });
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0], data.data());
  EXPECT_EQ(starts[1], data.data() + 3);
}

TEST(ProduceKeyTest, ExtractsTheJoinKey) {
  KeyExtractor event_id("event_id");
  EXPECT_EQ(event_id.Extract(R"({"event_id":"8cca1c7d-b0cc-4738-be92-c644101e3fff","click_id":"c"})"),
            "8cca1c7d-b0cc-4738-be92-c644101e3fff");
  KeyExtractor click_id("click_id");
  EXPECT_EQ(click_id.Extract(R"({"event_id":"e","click_id":"ad110114-faa5-41c0-ae9e-7d446c48c509"})"),
            "ad110114-faa5-41c0-ae9e-7d446c48c509");
}

TEST(ProduceKeyTest, WhitespaceAroundTokens) {
  KeyExtractor k("event_id");
  EXPECT_EQ(k.Extract(" {\n \"a\" : 1 ,\t\"event_id\"  :\r\n  \"abc\"  } "), "abc");
}

TEST(ProduceKeyTest, EscapedCharactersAreUnescaped) {
  KeyExtractor k("event_id");
  EXPECT_EQ(k.Extract(R"({"event_id":"a\"b\\c\/d\u00e9"})"), "a\"b\\c/d\xc3\xa9");
  // A value that merely contains the key's text must not be mistaken for the key.
  EXPECT_EQ(k.Extract(R"({"note":"\"event_id\":\"fake\"","event_id":"real"})"), "real");
  // Nor a nested object's field of the same name.
  EXPECT_EQ(k.Extract(R"({"inner":{"event_id":"nested"},"event_id":"top"})"), "top");
  EXPECT_EQ(k.Extract(R"({"inner":{"event_id":"nested"}})"), "");
}

TEST(ProduceKeyTest, EscapedKeyNameMatches) {
  KeyExtractor k("event_id");
  EXPECT_EQ(k.Extract(R"({"event\u005fid":"x"})"), "x");  // same field name, spelled escaped
}

TEST(ProduceKeyTest, MissingOrNonStringKeyIsEmpty) {
  KeyExtractor k("event_id");
  EXPECT_EQ(k.Extract(R"({"click_id":"c"})"), "");
  EXPECT_EQ(k.Extract(R"({"event_id":null})"), "");
  EXPECT_EQ(k.Extract(R"({"event_id":42})"), "");
  EXPECT_EQ(k.Extract(R"({"event_id":["a"]})"), "");
  EXPECT_EQ(k.Extract(R"({"event_id":""})"), "");
  EXPECT_EQ(k.Extract(R"(["event_id","x"])"), "");
  EXPECT_EQ(k.Extract(R"("event_id")"), "");
}

TEST(ProduceKeyTest, MalformedJsonHasNoKey) {
  KeyExtractor k("event_id");
  // Truncated after the key: a scan would find it, but the line is not JSON.
  EXPECT_EQ(k.Extract(R"({"event_id":"534a874f-68ee-4f9b-a344-e6af050021fe","event_timestamp":"2026-11-)"), "");
  EXPECT_EQ(k.Extract(R"({"event_id":")"), "");
  EXPECT_EQ(k.Extract(R"({'event_id': 'single-quoted', 'event_type': 'pageview'})"), "");
  EXPECT_EQ(k.Extract("<html><body><h1>502 Bad Gateway</h1></body></html>"), "");
  EXPECT_EQ(k.Extract("ERROR: producer timed out after 30000 ms"), "");
  EXPECT_EQ(k.Extract(R"({"event_id":"x"} trailing)"), "");
  EXPECT_EQ(k.Extract("{\"event_id\":\"\xff\xfe\"}"), "");  // invalid UTF-8
  EXPECT_EQ(k.Extract(""), "");
  // The extractor keeps working after a failure.
  EXPECT_EQ(k.Extract(R"({"event_id":"ok"})"), "ok");
}

TEST(ProduceKeyTest, HugeLine) {
  KeyExtractor k("click_id");
  std::string line = R"({"pad":")" + std::string(4 << 20, 'p') + R"(","click_id":"end"})";
  EXPECT_EQ(k.Extract(line), "end");
  EXPECT_EQ(k.Extract(R"({"click_id":"small again"})"), "small again");
}

TEST(ProduceKeyTest, NoKeyFieldMeansNoKey) {
  KeyExtractor k("");
  EXPECT_EQ(k.Extract(R"({"event_id":"x"})"), "");
}

// Every proper prefix of a valid line is malformed: none may be keyed (a search for the key
// would key most of them); the shipped samples' malformed lines neither.
TEST(ProduceKeyTest, TruncatedSampleLinesHaveNoKey) {
  KeyExtractor k("event_id");
  std::ifstream in(std::string(CLICKFLOW_SOURCE_DIR) + "/data/samples/browser_events.jsonl", std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  ForEachLine(content, [&](std::string_view line) { lines.emplace_back(line); });
  ASSERT_GT(lines.size(), 1000u);
  size_t keyed = 0;
  for (const auto& line : lines) keyed += !k.Extract(line).empty();
  EXPECT_GE(keyed, lines.size() - 5);  // a handful of malformed lines in the samples
  EXPECT_LT(keyed, lines.size());
  const std::string& line = lines[0];
  ASSERT_EQ(k.Extract(line).size(), 36u) << line;
  for (size_t cut = 0; cut < line.size(); ++cut) {
    EXPECT_EQ(k.Extract(std::string_view(line).substr(0, cut)), "") << cut;
  }
}

class ProduceFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("produce_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Write(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path dir_;
};

TEST_F(ProduceFileTest, ReadsWholeFile) {
  std::string content = "{\"a\":1}\n\n{\"b\":2}\r\n";
  InputFile f(Write("x.jsonl", content));
  EXPECT_EQ(f.data(), content);
  InputFile moved(std::move(f));
  EXPECT_EQ(moved.data(), content);
}

TEST_F(ProduceFileTest, EmptyFileHasNoLines) {
  InputFile f(Write("empty.jsonl", ""));
  EXPECT_EQ(f.data().size(), 0u);
  EXPECT_EQ(Lines(f.data()), V{});
}

TEST_F(ProduceFileTest, MissingFileNamesThePath) {
  try {
    InputFile f(dir_ / "nope.jsonl");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.jsonl"), std::string::npos) << e.what();
  }
}

TEST_F(ProduceFileTest, DirJobsUseTheJoinKeys) {
  for (auto name : {"browser_events", "device_events", "geo_events", "location_events"}) {
    Write(TopicFileName(name), "{}\n");
  }
  auto jobs = JobsForDir(dir_);
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[0].topic, "browser_events");
  EXPECT_EQ(jobs[0].key_field, "event_id");
  EXPECT_EQ(jobs[0].file, dir_ / "browser_events.jsonl");
  EXPECT_EQ(jobs[1].key_field, "click_id");
  EXPECT_EQ(jobs[2].key_field, "click_id");
  EXPECT_EQ(jobs[3].key_field, "event_id");
}

TEST_F(ProduceFileTest, DirWithAMissingFileNamesIt) {
  for (auto name : {"browser_events", "device_events", "location_events"}) Write(TopicFileName(name), "{}\n");
  try {
    JobsForDir(dir_);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("geo_events.jsonl"), std::string::npos) << e.what();
  }
}

TEST(ProduceJobTest, UnknownTopicIsRejected) {
  EXPECT_THROW(JobForTopic("clicks", "f.jsonl"), Error);
  EXPECT_EQ(JobForTopic("geo_events", "f.jsonl").key_field, "click_id");
}

TEST(ProduceSummaryTest, FormatsRates) {
  TopicSummary s;
  s.topic = "browser_events";
  s.lines = 1000;
  s.bytes = 2'000'000;
  s.seconds = 2;
  s.failed = 3;
  std::string text = FormatSummary(s);
  EXPECT_NE(text.find("browser_events"), std::string::npos) << text;
  EXPECT_NE(text.find("1000 lines"), std::string::npos) << text;
  EXPECT_NE(text.find("500 lines/s"), std::string::npos) << text;
  EXPECT_NE(text.find("1.0 MB/s"), std::string::npos) << text;
  EXPECT_NE(text.find("3 failed"), std::string::npos) << text;
}

}  // namespace
}  // namespace clickflow
