#!/usr/bin/env bash
# Prints a clickflow.yaml for a stack of its own: its data in DATA_DIR, every listener on a free
# loopback port, Kafka/ClickHouse/PostgreSQL from the deps that scripts/install-deps.sh fills,
# and the given `stack:` settings on top. The soak and the benchmarks start their stacks from it,
# so they run beside a `./run.sh` stack on the default ports.
#
#   scripts/temp-stack-config.sh DATA_DIR [SETTING...] > clickflow.yaml
#   e.g. scripts/temp-stack-config.sh /tmp/x/var "streaming: true" "superset: false"
#
# CLICKFLOW_STACK_DEPS_DIR overrides the deps dir (default <repo>/var/deps).
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 DATA_DIR [SETTING...]" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
data_dir=$1
shift
# All nine ports from one process, each socket held open until the last is picked, so no two
# are the same.
read -r kafka clickhouse postgres controller native airflow superset metrics status < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(9)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
cat <<YAML
data_dir: $data_dir
kafka: {bootstrap_servers: "127.0.0.1:$kafka"}
clickhouse: {url: "http://127.0.0.1:$clickhouse"}
stack:
  postgres_port: $postgres
  kafka_controller_port: $controller
  clickhouse_tcp_port: $native
  airflow_port: $airflow
  superset_port: $superset
  metrics_port: $metrics
  status_port: $status
  deps_dir: ${CLICKFLOW_STACK_DEPS_DIR:-$repo/var/deps}
YAML
for setting in "$@"; do echo "  $setting"; done
