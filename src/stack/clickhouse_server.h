#pragma once
// ClickHouse, one of two engines (stack.clickhouse_engine, docs/clickhouse.md): "chdb", the
// ClickHouse 26.9 engine of PyPI's chdb-core started as a server by clickhouse/chdb/server.py,
// or "debian", Debian's clickhouse-server 18.16. Either way a config rendered under
// <data_dir>/clickhouse, loopback only, the admin user and the read-only dashboards user with
// SHA-256 passwords.
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
  std::filesystem::path ChdbPython() const { return config_.DepsDir() / "chdb-venv" / "bin" / "python3"; }
  bool Chdb() const { return config_.stack.clickhouse_engine == "chdb"; }
  std::string user_;
};

}  // namespace clickflow::stack
