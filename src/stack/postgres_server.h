#pragma once
// PostgreSQL for Airflow's and Superset's metadata: Debian's server binaries, a cluster of our
// own under <data_dir>/postgres (initdb on first start), databases `airflow` and `superset`.
#include "stack/component.h"

namespace clickflow::stack {

class PostgresServer : public Component {
 public:
  explicit PostgresServer(const Config& config);
  std::string Name() const override { return "postgres"; }
  std::vector<int> Ports() const override { return {config_.stack.postgres_port}; }
  void CheckInstalled() const override;
  void Prepare() override;
  SpawnOptions Command() const override;
  bool Healthy() const override;
  void AfterHealthy() override;

 private:
  std::filesystem::path Bin(const std::string& tool) const { return bin_dir_ / tool; }
  std::filesystem::path DataDir() const { return WorkDir() / "data"; }
  std::filesystem::path SocketDir() const { return WorkDir() / "run"; }
  CommandResult Psql(const std::string& database, const std::string& sql) const;

  std::filesystem::path bin_dir_;
  std::string user_;
};

// The newest /usr/lib/postgresql/<version>/bin (empty when none is installed).
std::filesystem::path FindPostgresBinDir();

}  // namespace clickflow::stack
