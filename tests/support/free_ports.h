#pragma once
// Every listener of a stack on a free loopback port, so test stacks never meet each other or
// a stack the developer runs on the default ports. One place: a new port key goes here.
#include <string>

#include "common/config.h"
#include "common/net.h"

namespace clickflow::testing {

inline void UseFreePorts(Config& c) {
  c.kafka.bootstrap_servers = "127.0.0.1:" + std::to_string(PickFreePort());
  c.clickhouse.url = "http://127.0.0.1:" + std::to_string(PickFreePort());
  c.stack.kafka_controller_port = PickFreePort();
  c.stack.clickhouse_tcp_port = PickFreePort();
  c.stack.postgres_port = PickFreePort();
  c.stack.airflow_port = PickFreePort();
  c.stack.superset_port = PickFreePort();
  c.stack.metrics_port = PickFreePort();
  c.stack.status_port = PickFreePort();
}

}  // namespace clickflow::testing
