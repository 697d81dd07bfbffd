#!/usr/bin/env bash
# Static checks of the repository's sources, run by .ci/run before the suite. Fast (seconds),
# needs no build and no server; exits 1 naming every check that found something.
#
#   scripts/lint.sh
#
#   - every shell script (*.sh, and any file whose #! line runs bash or sh) by shellcheck
#   - every Python file by `ruff check`, with the rules of ruff.toml
#   - and by `ruff format --check`: the Python is as ruff formats it
#   - every C++ file by `clang-format --dry-run --Werror` (.clang-format)
#   - no C++ source of src/ over 450 lines (a longer file holds more than one job)
#   - the C++ of src/ by clang-tidy (.clang-tidy; functions over 80 lines among its checks),
#     on a compile_commands.json configured in build-lint/ (no compilation: about 5 minutes
#     on 2 cores, the slowest check; CLICKFLOW_LINT_TIDY=OFF skips it for a quick local run)
#
# Tools: shellcheck, clang-format and clang-tidy from Debian, ruff from scripts/install-ruff.sh
# (scripts/install-deps.sh installs all); RUFF=/path/to/ruff overrides the venv's.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
ruff="${RUFF:-${CLICKFLOW_STACK_DEPS_DIR:-$repo/var/deps}/ruff-venv/bin/ruff}"

for tool in shellcheck clang-format clang-tidy; do
  command -v "$tool" >/dev/null || { echo "lint: $tool not found: run scripts/install-deps.sh" >&2; exit 1; }
done
[[ -x "$ruff" ]] || { echo "lint: $ruff not found: run scripts/install-ruff.sh (or scripts/install-deps.sh)" >&2; exit 1; }

# The repository's files: git's list where there is one, else everything but what .gitignore
# keeps out (dependencies, builds, node_modules).
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard)
else
  mapfile -t files < <(find . -path ./var -prune -o -path './build*' -prune -o -name node_modules -prune \
                         -o -type f -print | sed 's|^\./||')
fi
shell_scripts=()
for file in "${files[@]}"; do
  [[ -f "$file" ]] || continue
  if [[ "$file" == *.sh ]] || head -n 1 "$file" | grep -qE '^#!.*[/ ](ba)?sh([[:space:]]|$)'; then
    shell_scripts+=("$file")
  fi
done

failed=()
check() {
  local name=$1
  shift
  local started=$SECONDS
  if "$@"; then
    echo "lint: $name: ok ($((SECONDS - started)) s)"
  else
    echo "lint: $name: FAILED" >&2
    failed+=("$name")
  fi
}

# -x follows `source`d files; every warning level counts, style included.
check "shellcheck (${#shell_scripts[@]} scripts)" shellcheck -x "${shell_scripts[@]}"
check "ruff check" "$ruff" check --no-cache "$repo"
check "ruff format --check" "$ruff" format --check --no-cache "$repo"

cpp_files=()
for file in "${files[@]}"; do
  [[ -f "$file" && ("$file" == *.cc || "$file" == *.h) ]] && cpp_files+=("$file")
done
check "clang-format (${#cpp_files[@]} files)" clang-format --dry-run --Werror "${cpp_files[@]}"

src_over_limit() {
  local over
  over="$(wc -l src/*/*.cc src/*/*.h | awk '$2 != "total" && $1 > 450 {print "  " $2 ": " $1 " lines"}')"
  [[ -z "$over" ]] && return 0
  echo "files of src/ over 450 lines (split them by job):" >&2
  echo "$over" >&2
  return 1
}
check "source files within 450 lines" src_over_limit

clang_tidy() {
  cmake -S . -B build-lint -G Ninja -DBUILD_TESTING=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
  # One file per clang-tidy process, as many as there are cores; xargs fails if any does.
  local log status=0
  log="$(mktemp)"
  git ls-files 'src/*.cc' | xargs -P "$(nproc)" -n 1 clang-tidy -p build-lint --quiet >"$log" 2>&1 || status=$?
  # Only the findings: not the count of warnings it suppressed in system headers.
  grep -vE "^[0-9]+ warnings? generated|^Suppressed|^Use -header-filter|^Use -system-headers" "$log" || true
  rm -f "$log"
  return "$status"
}
if [[ "${CLICKFLOW_LINT_TIDY:-ON}" != OFF ]]; then
  check "clang-tidy" clang_tidy
fi

if ((${#failed[@]})); then
  echo "lint: failed: ${failed[*]}" >&2
  exit 1
fi
echo "lint: all checks passed"
