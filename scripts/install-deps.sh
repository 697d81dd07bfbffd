#!/usr/bin/env bash
# Installs everything clickflow needs on Debian 12: the toolchain and C++ libraries (Debian
# -dev packages), the servers (ClickHouse, PostgreSQL, Java for Kafka), Kafka's jars from Maven
# Central. Idempotent: when everything is there it is a fast no-op.
#
#   scripts/install-deps.sh            # everything
#   CLICKFLOW_STACK_DEPS_DIR=/opt/x scripts/install-deps.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps_dir="${CLICKFLOW_STACK_DEPS_DIR:-$repo/var/deps}"

apt_packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  # clang and compiler-rt (libclang_rt.fuzzer, asan, ubsan) for ./test.sh --fuzz
  clang libclang-rt-dev
  # C++ libraries
  librdkafka-dev libsimdjson-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev
  libfmt-dev libcurl4-openssl-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  # servers and their clients
  clickhouse-server clickhouse-client postgresql postgresql-client kcat default-jre-headless maven
  # tests and tools
  python3 python3-venv chromium nodejs procps psmisc bc
  # scripts/lint.sh
  shellcheck clang-format clang-tidy
)
# Debian's nodejs has npm apart; NodeSource's nodejs (Node 20 on this image) bundles it.
command -v npm >/dev/null 2>&1 || apt_packages+=(npm)

missing=()
for pkg in "${apt_packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "install-deps: apt packages: ${missing[*]}"
  sudo_cmd=()
  [[ "$(id -u)" == 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's packages may also enable their own clickhouse-server and postgresql services (where
# an init system runs). They are left alone: stopping them by service name would also stop the
# servers of running clickflow stacks. If they hold the ports, `clickflow stack up` says so.

"$repo/scripts/install-kafka.sh" "$deps_dir/kafka/libs"
"$repo/scripts/install-airflow.sh" "$deps_dir/airflow-venv"
"$repo/scripts/install-superset.sh" "$deps_dir/superset-venv"
"$repo/scripts/install-compose.sh" "$deps_dir/compose-venv"
"$repo/scripts/install-ruff.sh" "$deps_dir/ruff-venv"
"$repo/scripts/install-chdb.sh" "$deps_dir/chdb-venv"

# playwright-core for the browser tests (it drives Debian's chromium; it never downloads one).
e2e="$repo/tests/e2e"
stamp="$e2e/node_modules/.clickflow-lock.sha256"
want="$(sha256sum "$e2e/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
  echo "install-deps: playwright-core installed in $e2e/node_modules"
fi
