#include "ingest/event_schema.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

namespace clickflow {
namespace {

TEST(EventSchemaTest, TopicNamesFollowTheSchemas) {
  const std::vector<std::string> expected = {"browser_events", "device_events", "geo_events", "location_events"};
  EXPECT_EQ(TopicNames(), expected);
  EXPECT_EQ(TopicNamesText(), "browser_events, device_events, geo_events, location_events");
  EXPECT_EQ(TopicFileName("geo_events"), "geo_events.jsonl");
  for (const auto& name : TopicNames()) ASSERT_NE(FindTopicSchema(name), nullptr) << name;
  EXPECT_EQ(FindTopicSchema("events"), nullptr);
}

std::string CommandOutput(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string out;
  std::array<char, 256> buffer;
  while (pipe && fgets(buffer.data(), buffer.size(), pipe.get())) out += buffer.data();
  return out;
}

// Scripts and DAGs read the list from the binary; it needs no config and no broker.
TEST(EventSchemaTest, TopicsNamesCommandPrintsTheList) {
  EXPECT_EQ(CommandOutput(std::string(CLICKFLOW_BINARY) + " topics names"),
            "browser_events\ndevice_events\ngeo_events\nlocation_events\n");
  EXPECT_EQ(CommandOutput(std::string(CLICKFLOW_BINARY) + " topics names --tables"),
            "browser_events\tevents_browser_raw\ndevice_events\tevents_device_raw\n"
            "geo_events\tevents_geo_raw\nlocation_events\tevents_location_raw\n");
}

}  // namespace
}  // namespace clickflow
