#pragma once
// Apache Airflow in the local stack: one component per Airflow process, all sharing
// <data_dir>/airflow (stack/airflow_home.h). The api-server (UI, REST and the execution API
// tasks report to) starts first and is healthy when /api/v2/monitor/health answers; the
// scheduler, dag-processor and triggerer are healthy when that endpoint reports their
// heartbeat healthy. Started only when stack.airflow is true.
#include "stack/airflow_home.h"
#include "stack/component.h"

namespace clickflow::stack {

class AirflowServer : public Component {
 public:
  enum class Role { kApiServer, kScheduler, kDagProcessor, kTriggerer };

  AirflowServer(const Config& config, Role role);
  std::string Name() const override;
  std::vector<int> Ports() const override;
  void CheckInstalled() const override;
  void Prepare() override;
  SpawnOptions Command() const override;
  bool Healthy() const override;
  std::chrono::seconds StartTimeout() const override;

 private:
  Role role_;
  AirflowHome home_;
};

}  // namespace clickflow::stack
