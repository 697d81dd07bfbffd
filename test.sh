#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test through ctest (unit, integration, browser).
#   ./test.sh                 all tests
#   ./test.sh -L unit         only unit tests (any ctest arguments are passed on)
#   ./test.sh --no-build      configure and run the tests of what is already built (no
#                             install-deps, no build)
#   ./test.sh --sanitize      build with ASan+UBSan (clang) into build-sanitize/ and run the
#                             unit tests
#   ./test.sh --sanitize --fuzz [secs]   both from one ASan+UBSan build in build-fuzz/ (what CI
#                             runs after the full suite)
#   ./test.sh --fuzz [secs]   build the libFuzzer targets of tests/fuzz with clang into
#                             build-fuzz/ and run each for secs seconds (default 60) over a copy
#                             of its seed corpus; fails on any crash, leak, timeout or UB
# CLICKFLOW_BUILD_DIR names the build dir of the plain and --no-build runs (default build/).
# CLICKFLOW_WERROR=ON makes every compiler warning an error (.ci/run sets it).
#
# The build dir is configured with BUILD_TESTING=ON whatever its cache says (./run.sh builds
# without the tests), and ctest fails when it finds no test: a run that tests nothing is not green.
set -euo pipefail
cd "$(dirname "$0")"

build_dir="${CLICKFLOW_BUILD_DIR:-build}"
cmake_args=()
ctest_args=()
targets=()
sanitize=false
build=true
fuzz_seconds=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  arg="${args[i]}"
  case "$arg" in
    --sanitize) sanitize=true ;;
    --no-build) build=false ;;
    --fuzz)
      fuzz_seconds=60
      if [[ "${args[i + 1]:-}" =~ ^[0-9]+$ ]]; then fuzz_seconds="${args[i + 1]}"; ((++i)); fi ;;
    *) ctest_args+=("$arg") ;;
  esac
done
# clang for both: the same checks as GCC's sanitizers, built several times faster.
if [[ -n "$fuzz_seconds" ]]; then
  # The fuzz build is ASan+UBSan too, so --sanitize --fuzz builds the core once for both.
  build_dir="build-fuzz"; targets=(fuzz_targets)
  cmake_args+=(-DCLICKFLOW_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DBUILD_TESTING="$([[ $sanitize == true ]] && echo ON || echo OFF)")
else
  cmake_args+=(-DBUILD_TESTING=ON)
  if [[ $sanitize == true ]]; then
    build_dir="build-sanitize"; cmake_args+=(-DCLICKFLOW_SANITIZE=ON -DCMAKE_CXX_COMPILER=clang++)
  fi
fi
if [[ $sanitize == true ]]; then
  targets+=(unit_tests); ctest_args+=(-L unit)
fi
cmake_args+=(-DCLICKFLOW_WERROR="${CLICKFLOW_WERROR:-OFF}")
# Undefined behaviour fails a test instead of printing a warning and carrying on.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

[[ $build == true ]] && scripts/install-deps.sh
cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" >/dev/null
[[ $build == true ]] && cmake --build "$build_dir" -j "$(nproc)" ${targets[@]+--target "${targets[@]}"}

if [[ -z "$fuzz_seconds" || $sanitize == true ]]; then
  (cd "$build_dir" && ctest --output-on-failure --no-tests=error -j "$(nproc)" ${ctest_args[@]+"${ctest_args[@]}"})
fi
[[ -z "$fuzz_seconds" ]] && exit 0

# Fuzzing: one target at a time, each over a scratch copy of its seeds (the committed corpus
# never grows); crash inputs go to build-fuzz/artifacts/, full output to build-fuzz/logs/.
mkdir -p build-fuzz/artifacts build-fuzz/logs
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
for source in tests/fuzz/*_fuzz.cc; do
  name="$(basename "$source" .cc)"
  corpus="$work/$name"
  mkdir -p "$corpus"
  cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  # Event lines up to twice the harness's message limit (event_fuzz.h), so both sides of it.
  max_len=4096; [[ "$name" == event_* ]] && max_len=16384
  flags=(-max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len"
         -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$name-")
  [[ -f "tests/fuzz/$name.dict" ]] && flags+=(-dict="tests/fuzz/$name.dict")
  log="build-fuzz/logs/$name.log"
  status=ok
  "build-fuzz/tests/fuzz/$name" "${flags[@]}" "$corpus" >"$log" 2>&1 || status=FAILED
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  echo "fuzz: $name: ${execs:-?} executions in ${fuzz_seconds}s: $status"
  if [[ "$status" != ok ]]; then
    grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|invariant violated|artifact_prefix|Test unit written)" "$log" |
      head -20 | sed 's/^/  /' || true
    failed+=("$name")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]} (logs in build-fuzz/logs/, inputs in build-fuzz/artifacts/)" >&2
  exit 1
fi
