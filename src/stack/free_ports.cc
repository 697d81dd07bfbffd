#include "stack/free_ports.h"

#include <set>
#include <string>

#include "common/net.h"

namespace clickflow {

void UseFreePorts(Config& config) {
  // PickFreePort releases its port at once, so the kernel may hand the same one out twice.
  std::set<int> picked;
  auto pick = [&picked] {
    int port = PickFreePort();
    while (!picked.insert(port).second) port = PickFreePort();
    return port;
  };
  config.kafka.bootstrap_servers = "127.0.0.1:" + std::to_string(pick());
  config.clickhouse.url = "http://127.0.0.1:" + std::to_string(pick());
  config.stack.kafka_controller_port = pick();
  config.stack.clickhouse_tcp_port = pick();
  config.stack.postgres_port = pick();
  config.stack.airflow_port = pick();
  config.stack.superset_port = pick();
  config.stack.metrics_port = pick();
  config.stack.status_port = pick();
}

}  // namespace clickflow
