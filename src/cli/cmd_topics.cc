// `clickflow topics create|list|describe|names`: the platform's four topics (event_schema's list)
// through the admin API.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "cli/commands.h"
#include "ingest/event_schema.h"
#include "kafka/admin.h"

namespace clickflow::cli {
namespace {

std::vector<kafka::TopicSpec> PlatformTopicSpecs(const Config& config) {
  const long retention_ms = static_cast<long>(config.kafka.retention_hours) * 3600 * 1000;
  std::vector<kafka::TopicSpec> specs;
  for (const auto& name : TopicNames()) {
    specs.push_back({name, config.kafka.topic_partitions, 1, {{"retention.ms", std::to_string(retention_ms)}}});
  }
  return specs;
}

std::string JoinInts(const std::vector<int>& values) {
  std::string out;
  for (int v : values) out += (out.empty() ? "" : ",") + std::to_string(v);
  return out;
}

}  // namespace

void RegisterTopics(CLI::App& app, GlobalOptions& global) {
  auto* topics = app.add_subcommand("topics", "create, list or describe the Kafka topics");
  topics->require_subcommand(1);

  topics->add_subcommand("create", "create the four topics (existing ones are left as they are)")->callback([&global] {
    Config config = global.LoadConfig();
    kafka::Admin admin(config.kafka.bootstrap_servers);
    auto created = admin.CreateTopics(PlatformTopicSpecs(config));
    for (const auto& name : TopicNames()) {
      bool is_new = std::find(created.begin(), created.end(), name) != created.end();
      std::cout << fmt::format("{:<16} {}\n", name, is_new ? "created" : "exists");
    }
  });

  topics->add_subcommand("list", "list the cluster's topics")->callback([&global] {
    Config config = global.LoadConfig();
    kafka::Admin admin(config.kafka.bootstrap_servers);
    for (const auto& name : admin.ListTopics()) std::cout << name << "\n";
  });

  // For scripts and DAGs: the one topic list, without a config or a broker.
  auto* list_names = topics->add_subcommand("names", "print the four platform topics, one per line");
  auto with_tables = std::make_shared<bool>(false);
  list_names->add_flag("--tables", *with_tables, "print \"<topic>\\t<staging table>\" per line");
  list_names->callback([with_tables] {
    for (const auto& schema : AllTopicSchemas()) {
      std::cout << schema.topic;
      if (*with_tables) std::cout << '\t' << schema.table;
      std::cout << '\n';
    }
  });

  auto* describe = topics->add_subcommand("describe", "partitions, leaders and configs of topics");
  auto names = std::make_shared<std::vector<std::string>>();
  describe->add_option("topics", *names, "topic names (default: the four platform topics)");
  describe->callback([&global, names] {
    Config config = global.LoadConfig();
    kafka::Admin admin(config.kafka.bootstrap_servers);
    auto wanted = names->empty() ? TopicNames() : *names;
    for (const auto& topic : admin.Describe(wanted)) {
      auto retention = topic.configs.count("retention.ms") ? topic.configs.at("retention.ms") : "?";
      std::cout << fmt::format("{}  partitions={}  retention.ms={}\n", topic.name, topic.partitions.size(), retention);
      for (const auto& p : topic.partitions) {
        std::cout << fmt::format("  partition {}  leader={}  replicas={}  isr={}  offsets={}..{}\n", p.id, p.leader,
                                 JoinInts(p.replicas), JoinInts(p.isrs), p.low_watermark, p.high_watermark);
      }
    }
  });
}

}  // namespace clickflow::cli
