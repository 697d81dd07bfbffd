#pragma once
// Topic administration through librdkafka's admin API, so any Kafka or Redpanda cluster works.
// Topic names come from the caller: the platform's list is ingest/event_schema's TopicNames().
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace clickflow::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 3;
  int replication_factor = 1;
  std::map<std::string, std::string> configs;  // e.g. retention.ms
};

struct PartitionInfo {
  int id = 0;
  int leader = -1;
  std::vector<int> replicas;
  std::vector<int> isrs;
  int64_t low_watermark = -1;   // first offset still in the log
  int64_t high_watermark = -1;  // offset the next message will get
};

struct TopicInfo {
  std::string name;
  std::vector<PartitionInfo> partitions;
  std::map<std::string, std::string> configs;  // only filled by Describe
};

class Admin {
 public:
  explicit Admin(const std::string& bootstrap_servers, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Creates the topics that do not exist; returns the names it created (existing ones are
  // left alone: creating again is not an error). Throws Error on any other failure.
  std::vector<std::string> CreateTopics(const std::vector<TopicSpec>& topics);

  // Topic names from the cluster's metadata (internal topics omitted).
  std::vector<std::string> ListTopics();

  // Partitions (leaders, replicas, ISR, watermarks) and the topic configs of `names`.
  std::vector<TopicInfo> Describe(const std::vector<std::string>& names);

 private:
  struct Impl;
  Impl* impl_;
  std::chrono::milliseconds timeout_;
};

// True when a broker answers a metadata request within `timeout`.
bool BrokerAnswers(const std::string& bootstrap_servers, std::chrono::milliseconds timeout);

}  // namespace clickflow::kafka
