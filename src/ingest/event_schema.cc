#include "ingest/event_schema.h"

namespace clickflow {

std::string TopicSchema::ColumnList() const {
  std::string out = "(";
  for (const auto& f : fields) {
    out += f.name;
    if (f.kind == FieldKind::kTimestamp) out += ", " + std::string(f.name) + "_us";
    out += ", ";
  }
  return out + "_topic, _partition, _offset, _ingested_at)";
}

const std::vector<TopicSchema>& AllTopicSchemas() {
  using K = FieldKind;
  static const std::vector<TopicSchema> schemas = {
      {"browser_events",
       "events_browser_raw",
       "event_id",
       {{"event_id", K::kString, true},
        {"event_timestamp", K::kTimestamp, true},
        {"event_type", K::kString, true},
        {"click_id", K::kString, true},
        {"browser_name", K::kString},
        {"browser_user_agent", K::kString},
        {"browser_language", K::kString}}},
      {"device_events",
       "events_device_raw",
       "click_id",
       {{"click_id", K::kString, true},
        {"os", K::kString},
        {"os_name", K::kString},
        {"os_timezone", K::kString},
        {"device_type", K::kString},
        {"device_is_mobile", K::kBool},
        {"user_custom_id", K::kString},
        {"user_domain_id", K::kString}}},
      {"geo_events",
       "events_geo_raw",
       "click_id",
       {{"click_id", K::kString, true},
        {"geo_latitude", K::kCoordinate, false, -90, 90},
        {"geo_longitude", K::kCoordinate, false, -180, 180},
        {"geo_country", K::kString},
        {"geo_timezone", K::kString},
        {"geo_region_name", K::kString},
        {"ip_address", K::kString}}},
      {"location_events",
       "events_location_raw",
       "event_id",
       {{"event_id", K::kString, true},
        {"page_url", K::kString},
        {"page_url_path", K::kString},
        {"referer_url", K::kString},
        {"referer_medium", K::kString},
        {"utm_medium", K::kString},
        {"utm_source", K::kString},
        {"utm_content", K::kString},
        {"utm_campaign", K::kString}}},
  };
  return schemas;
}

std::vector<std::string> TopicNames() {
  std::vector<std::string> names;
  for (const auto& s : AllTopicSchemas()) names.emplace_back(s.topic);
  return names;
}

std::string TopicNamesText() {
  std::string out;
  for (const auto& s : AllTopicSchemas()) out += (out.empty() ? "" : ", ") + std::string(s.topic);
  return out;
}

std::string TopicFileName(std::string_view topic) { return std::string(topic) + ".jsonl"; }

const TopicSchema* FindTopicSchema(std::string_view topic) {
  for (const auto& s : AllTopicSchemas()) {
    if (s.topic == topic) return &s;
  }
  return nullptr;
}

}  // namespace clickflow
