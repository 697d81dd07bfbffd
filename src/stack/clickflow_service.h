#pragma once
// Streaming mode (stack.streaming: true): clickflow's own long-running commands as services of
// the stack, supervised like the servers:
//   loader     `clickflow load --follow` (Kafka -> staging, exactly once; /metrics on
//              stack.metrics_port), healthy when /metrics answers;
//   dwh-watch  `clickflow dwh watch` (warehouse micro-builds every few seconds), healthy while
//              it runs.
// Before the loader's first start the stack applies the schema and creates the topics (both
// idempotent), so streaming works on a fresh data dir without other commands.
#include "stack/component.h"

namespace clickflow::stack {

class ClickflowService : public Component {
 public:
  enum class Kind { kLoader, kWarehouseWatch };

  ClickflowService(const Config& config, Kind kind) : Component(config), kind_(kind) {}
  std::string Name() const override { return kind_ == Kind::kLoader ? "loader" : "dwh-watch"; }
  std::vector<int> Ports() const override;
  void CheckInstalled() const override {}
  void Prepare() override;
  SpawnOptions Command() const override;
  bool Healthy() const override;
  // Finishing the batch in flight (or the day being swapped in) takes a moment.
  std::chrono::seconds StopGrace() const override { return std::chrono::seconds(60); }

 private:
  // `clickflow --config <the stack's config> args...`
  std::vector<std::string> Clickflow(const std::vector<std::string>& args) const;

  Kind kind_;
};

// The config file clickflow's services and tasks run with: the file the stack was started with,
// or (defaults only) the effective config written to <run dir>/clickflow.yaml (0600).
std::filesystem::path ServiceConfigPath(const Config& config);

}  // namespace clickflow::stack
