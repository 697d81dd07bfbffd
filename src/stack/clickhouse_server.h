#pragma once
// ClickHouse: Debian's clickhouse-server with a config rendered under <data_dir>/clickhouse,
// loopback only, the admin user and the read-only dashboards user with SHA-256 passwords.
#include "stack/component.h"

namespace clickflow::stack {

class ClickHouseServer : public Component {
 public:
  explicit ClickHouseServer(const Config& config);
  std::string Name() const override { return "clickhouse"; }
  std::vector<int> Ports() const override;
  void CheckInstalled() const override;
  void Prepare() override;
  SpawnOptions Command() const override;
  bool Healthy() const override;

 private:
  std::filesystem::path ConfigFile() const { return WorkDir() / "config.xml"; }
  std::string user_;
};

}  // namespace clickflow::stack
