#pragma once
// Apache Superset in the local stack: gunicorn serving superset.app:create_app() on
// stack.superset_port, metadata in the stack's PostgreSQL, the dashboards of superset/assets/
// imported through its API once it answers (stack/superset_home.h). Healthy when /health answers OK.
// Started only when stack.superset is true.
#include "stack/component.h"
#include "stack/superset_home.h"

namespace clickflow::stack {

class SupersetServer : public Component {
 public:
  explicit SupersetServer(const Config& config) : Component(config), home_(config) {}
  std::string Name() const override { return "superset"; }
  std::vector<int> Ports() const override { return {config_.stack.superset_port}; }
  void CheckInstalled() const override { home_.CheckInstalled(); }
  void Prepare() override;
  SpawnOptions Command() const override;
  bool Healthy() const override;
  void AfterHealthy() override { home_.ImportAssets(SupersetLocalUrl(config_)); }
  std::chrono::seconds StartTimeout() const override;

 private:
  SupersetHome home_;
};

}  // namespace clickflow::stack
