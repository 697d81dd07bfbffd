#include "common/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/error.h"
#include "config_error.h"

namespace clickflow {
namespace {

std::string ErrorOf(const std::string& yaml) { return testing::ConfigErrorOf(yaml); }

TEST(ConfigTest, DefaultsMatchTheLocalPlatform) {
  Config c = ParseConfig("", "test.yaml", "/base");
  EXPECT_EQ(c.kafka.bootstrap_servers, "127.0.0.1:9092");
  EXPECT_EQ(c.kafka.topic_partitions, 3);
  EXPECT_EQ(c.kafka.retention_hours, 168);
  EXPECT_EQ(c.clickhouse.url, "http://127.0.0.1:8123");
  EXPECT_EQ(c.clickhouse.password, "clickhouse");
  EXPECT_EQ(c.pipeline.batch_size, 1000);
  EXPECT_EQ(c.pipeline.fact_ttl_days, 365);
  EXPECT_EQ(c.clickhouse.user, "clickflow");
  EXPECT_EQ(c.stack.clickhouse_engine, "chdb");
}

TEST(ConfigTest, ReadsValuesAndResolvesPathsAgainstTheFile) {
  Config c =
      ParseConfig("data_dir: data\nkafka: {topic_partitions: 6}\nstack: {streaming: true}\n", "test.yaml", "/base");
  EXPECT_EQ(c.data_dir, "/base/data");
  EXPECT_EQ(c.kafka.topic_partitions, 6);
  EXPECT_TRUE(c.stack.streaming);
}

TEST(ConfigTest, UnknownKeyNamesTheKeyAndTheFile) {
  EXPECT_EQ(ErrorOf("kafka: {bootstrap: x}\n"), "test.yaml: kafka.bootstrap: unknown key");
  EXPECT_EQ(ErrorOf("kafak: {}\n"), "test.yaml: kafak: unknown key");
}

TEST(ConfigTest, BadValueNamesTheKey) {
  EXPECT_EQ(ErrorOf("pipeline: {batch_size: lots}\n"),
            "test.yaml: pipeline.batch_size: expected an integer, got 'lots'");
  EXPECT_EQ(ErrorOf("pipeline: {batch_size: 0}\n"),
            "test.yaml: pipeline.batch_size: value 0 is out of range [1, 1000000]");
  EXPECT_EQ(ErrorOf("stack: {streaming: maybe}\n"), "test.yaml: stack.streaming: expected true or false, got 'maybe'");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: [a, b]}\n"),
            "test.yaml: kafka.bootstrap_servers: expected a single value, not a list or map");
}

// Found by tests/fuzz/config_fuzz ("kafka:\n? - topic_partitions: 3\n"): a list or map used as
// a key escaped as yaml-cpp's TypedBadConversion, without the file or the key.
TEST(ConfigTest, ListOrMapAsKeyNamesTheFile) {
  EXPECT_EQ(ErrorOf("kafka:\n? - topic_partitions: 3\n"),
            "test.yaml: top level: expected a key name, not a list or map");
  EXPECT_EQ(ErrorOf("{[a, b]: 1}\n"), "test.yaml: top level: expected a key name, not a list or map");
  EXPECT_EQ(ErrorOf("kafka:\n  ? {a: 1}\n  : 3\n"), "test.yaml: kafka: expected a key name, not a list or map");
}

TEST(ConfigTest, InvalidYamlIsReported) {
  EXPECT_NE(ErrorOf("kafka: {a: [\n").find("test.yaml: not valid YAML"), std::string::npos);
}

TEST(ConfigTest, EnvironmentOverridesTheFile) {
  const std::string path = ::testing::TempDir() + "/env_override.yaml";
  std::ofstream(path) << "clickhouse: {url: http://file:8123}\n";
  ::setenv("CLICKFLOW_CLICKHOUSE_URL", "http://env:9999", 1);
  Config c = LoadConfig(path);
  ::unsetenv("CLICKFLOW_CLICKHOUSE_URL");
  EXPECT_EQ(c.clickhouse.url, "http://env:9999");
  EXPECT_EQ(c.source, path);
}

TEST(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  ::setenv("CLICKFLOW_KAFKA_TOPIC_PARTITIONS", "three", 1);
  std::string message;
  try {
    LoadConfig("");
  } catch (const Error& e) {
    message = e.what();
  }
  ::unsetenv("CLICKFLOW_KAFKA_TOPIC_PARTITIONS");
  EXPECT_EQ(message,
            "environment variable CLICKFLOW_KAFKA_TOPIC_PARTITIONS: kafka.topic_partitions: "
            "expected an integer, got 'three'");
}

TEST(ConfigTest, SemanticChecksNameTheKey) {
  const std::string path = ::testing::TempDir() + "/semantic.yaml";
  std::ofstream(path) << "clickhouse: {url: ftp://x}\n";
  try {
    LoadConfig(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": clickhouse.url: expected an http:// or https:// URL, got 'ftp://x'");
  }
}

TEST(ConfigTest, ClickHouseEngineIsChdbOrDebian) {
  const std::string path = ::testing::TempDir() + "/engine.yaml";
  std::ofstream(path) << "stack: {clickhouse_engine: debian}\n";
  EXPECT_EQ(LoadConfig(path).stack.clickhouse_engine, "debian");
  std::ofstream(path) << "stack: {clickhouse_engine: 26.9}\n";
  try {
    LoadConfig(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": stack.clickhouse_engine: expected chdb or debian, got '26.9'");
  }
}

// The loader's memory bounds: both byte limits are range-checked, and a message may not be
// allowed to be larger than the batch that must hold it.
TEST(ConfigTest, ByteLimitsAreCheckedAndNameTheirKey) {
  const Config defaults;
  EXPECT_EQ(defaults.pipeline.batch_max_bytes, 128 << 20);
  EXPECT_EQ(defaults.pipeline.max_message_bytes, 1 << 20);
  const int too_large = (1 << 30) + 1;
  EXPECT_EQ(ErrorOf("pipeline: {batch_max_bytes: " + std::to_string(too_large) + "}\n"),
            "test.yaml: pipeline.batch_max_bytes: value " + std::to_string(too_large) + " is out of range [" +
                std::to_string(64 << 10) + ", " + std::to_string(1 << 30) + "]");
  EXPECT_EQ(ErrorOf("pipeline: {max_message_bytes: 10}\n"),
            "test.yaml: pipeline.max_message_bytes: value 10 is out of range [" + std::to_string(1 << 10) + ", " +
                std::to_string(256 << 20) + "]");

  const std::string path = ::testing::TempDir() + "/byte_limits.yaml";
  const int batch = 1 << 20;
  std::ofstream(path) << "pipeline: {batch_max_bytes: " << batch << ", max_message_bytes: " << batch + 1 << "}\n";
  try {
    LoadConfig(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": pipeline.max_message_bytes: must not exceed pipeline.batch_max_bytes");
  }
  std::ofstream(path) << "pipeline: {batch_max_bytes: " << batch << ", max_message_bytes: " << batch << "}\n";
  const Config ok = LoadConfig(path);
  EXPECT_EQ(ok.pipeline.batch_max_bytes, batch);
  EXPECT_EQ(ok.pipeline.max_message_bytes, batch);
}

TEST(ConfigTest, YamlRoundTrip) {
  Config c = ParseConfig("kafka: {topic_partitions: 5}\nstack: {postgres_port: 6543}\n", "a.yaml", "/b");
  Config back = ParseConfig(ToYaml(c), "b.yaml", "/b");
  EXPECT_EQ(back.kafka.topic_partitions, 5);
  EXPECT_EQ(back.stack.postgres_port, 6543);
  EXPECT_EQ(back.clickhouse.url, c.clickhouse.url);
}

// Found by tests/fuzz/config_fuzz: a value ending in '\r' (here "pw\r") came back from
// ToYaml -> ParseConfig without its '\r' (yaml-cpp wrote it as a plain scalar).
TEST(ConfigTest, YamlRoundTripKeepsCarriageReturns) {
  Config c =
      ParseConfig("clickhouse: {password: \"pw\\r\", user: \"\\r\"}\nstack: {deps_dir: \"/d\\r\"}\n", "a.yaml", "/b");
  ASSERT_EQ(c.clickhouse.password, "pw\r");
  Config back = ParseConfig(ToYaml(c), "b.yaml", "/b");
  EXPECT_EQ(back.clickhouse.password, "pw\r");
  EXPECT_EQ(back.clickhouse.user, "\r");
  EXPECT_EQ(back.stack.deps_dir, "/d\r");
}

}  // namespace
}  // namespace clickflow
