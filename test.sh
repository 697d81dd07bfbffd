#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test through ctest (unit, integration, browser).
#   ./test.sh                 all tests
#   ./test.sh -L unit         only unit tests (any ctest arguments are passed on)
#   ./test.sh --sanitize      build with ASan+UBSan into build-sanitize/ and run the unit tests
set -euo pipefail
cd "$(dirname "$0")"

build_dir=build
cmake_args=()
ctest_args=()
for arg in "$@"; do
  case "$arg" in
    --sanitize) build_dir=build-sanitize; cmake_args+=(-DCLICKFLOW_SANITIZE=ON); ctest_args+=(-L unit) ;;
    *) ctest_args+=("$arg") ;;
  esac
done

scripts/install-deps.sh
cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
cd "$build_dir"
ctest --output-on-failure -j "$(nproc)" "${ctest_args[@]}"
