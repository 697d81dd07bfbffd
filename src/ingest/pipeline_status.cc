#include "ingest/pipeline_status.h"

#include <algorithm>
#include <map>

#include "clickhouse/client.h"
#include "common/error.h"
#include "ingest/event_schema.h"
#include "ingest/offset_store.h"
#include "kafka/admin.h"

namespace clickflow {

namespace {

// Seconds since the newest value of `column` in `table`; nullopt for an empty table.
std::optional<int64_t> AgeSeconds(ClickHouseClient& client, const std::string& table, const std::string& column) {
  if (client.QueryInt("SELECT count() FROM " + table) == 0) return std::nullopt;
  return client.QueryInt("SELECT toInt64(now()) - toInt64(max(" + column + ")) FROM " + table);
}

}  // namespace

PipelineStatus ReadPipelineStatus(const Config& config) {
  PipelineStatus status;
  try {
    const ClickHouseTimeouts quick{std::chrono::seconds(2), std::chrono::seconds(10)};
    ClickHouseClient client(config.clickhouse, quick);
    const std::string db = config.clickhouse.database;
    OffsetStore offsets(client, db);
    kafka::Admin admin(config.kafka.bootstrap_servers, std::chrono::seconds(5));
    std::vector<std::string> names;
    for (const TopicSchema& schema : AllTopicSchemas()) names.emplace_back(schema.topic);
    const std::vector<kafka::TopicInfo> topics = admin.Describe(names);
    for (const TopicSchema& schema : AllTopicSchemas()) {
      TopicLag lag{std::string(schema.topic)};
      const auto it = std::find_if(topics.begin(), topics.end(), [&](const auto& t) { return t.name == schema.topic; });
      if (it == topics.end()) continue;
      const auto loaded = offsets.Read(schema);
      for (const kafka::PartitionInfo& p : it->partitions) {
        lag.end += p.high_watermark;
        int64_t next = p.low_watermark;
        if (auto l = loaded.find(p.id); l != loaded.end()) {
          next = std::max(next, std::max(l->second.staging, l->second.dead_letters) + 1);
        }
        lag.lag += std::max<int64_t>(0, p.high_watermark - next);
      }
      status.topics.push_back(lag);
    }
    status.facts = client.QueryInt("SELECT count() FROM " + db + ".fact_events");
    status.newest_fact_age_s = AgeSeconds(client, db + ".fact_events", "event_timestamp");
    for (const TopicSchema& schema : AllTopicSchemas()) {
      const auto age = AgeSeconds(client, db + "." + std::string(schema.table), "_ingested_at");
      if (age && (!status.newest_load_age_s || *age < *status.newest_load_age_s)) status.newest_load_age_s = age;
    }
  } catch (const Error& e) {
    status.error = e.what();
  }
  return status;
}

nlohmann::json PipelineStatusJson(const Config& config) {
  const PipelineStatus pipeline = ReadPipelineStatus(config);
  nlohmann::json topics = nlohmann::json::array();
  for (const TopicLag& t : pipeline.topics)
    topics.push_back({{"topic", t.topic}, {"end_offset", t.end}, {"lag", t.lag}});
  auto optional = [](const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"topics", topics},
          {"facts", pipeline.facts},
          {"newest_fact_age_s", optional(pipeline.newest_fact_age_s)},
          {"newest_load_age_s", optional(pipeline.newest_load_age_s)},
          {"error", pipeline.error}};
}

}  // namespace clickflow
