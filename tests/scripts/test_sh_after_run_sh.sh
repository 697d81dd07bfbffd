#!/usr/bin/env bash
# `./run.sh` then `./test.sh`: run.sh configures build/ with BUILD_TESTING=OFF, and test.sh
# must still run the tests on that build dir, and fail when ctest finds none. Checked on a
# scratch build dir configured the way run.sh configures build/, with test.sh's configure and
# ctest steps (--no-build: nothing compiled) running one test: this one, which, run from
# inside itself, only says it ran.
set -euo pipefail
if [[ -n "${TEST_SH_AFTER_RUN_SH_NESTED:-}" ]]; then
  echo "test_sh_after_run_sh: ran inside ./test.sh"
  exit 0
fi
export TEST_SH_AFTER_RUN_SH_NESTED=1
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "test_sh_after_run_sh: $1" >&2; sed 's/^/  | /' "$work/log" >&2; exit 1; }

# The configure line of run.sh.
cmake -S "$repo" -B "$work/build" -G Ninja -DBUILD_TESTING=OFF >"$work/log" 2>&1 || fail "cmake failed"

CLICKFLOW_BUILD_DIR="$work/build" "$repo/test.sh" --no-build -R '^test_sh_after_run_sh$' >"$work/log" 2>&1 \
  || fail "./test.sh failed on a build dir configured by run.sh"
grep -q '100% tests passed, 0 tests failed out of 1$' "$work/log" \
  || fail "./test.sh ran no test on a build dir configured by run.sh"

if CLICKFLOW_BUILD_DIR="$work/build" "$repo/test.sh" --no-build -R '^no_such_test$' >"$work/log" 2>&1; then
  fail "./test.sh succeeded although ctest found no test"
fi
grep -q 'No tests were found' "$work/log" || fail "./test.sh failed, but not because it found no test"
echo "test_sh_after_run_sh: ok"
