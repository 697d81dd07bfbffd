#pragma once
// Kafka 4.x as one combined KRaft node (broker + controller): server jars from Maven Central
// (kafka/pom.xml, copied by scripts/install-kafka.sh), run with the machine's Java 17.
#include "stack/component.h"

namespace clickflow::stack {

class KafkaBroker : public Component {
 public:
  explicit KafkaBroker(const Config& config) : Component(config) {}
  std::string Name() const override { return "kafka"; }
  std::vector<int> Ports() const override;
  void CheckInstalled() const override;
  void Prepare() override;
  SpawnOptions Command() const override;
  bool Healthy() const override;
  std::chrono::seconds StopGrace() const override { return std::chrono::seconds(30); }

 private:
  std::filesystem::path LibsDir() const { return config_.DepsDir() / "kafka" / "libs"; }
  std::filesystem::path PropertiesFile() const { return WorkDir() / "server.properties"; }
  std::filesystem::path LogDirs() const { return WorkDir() / "data"; }
  std::vector<std::string> Java(const std::string& main_class) const;
};

}  // namespace clickflow::stack
