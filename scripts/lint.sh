#!/usr/bin/env bash
# Static checks of the repository's sources, run by .ci/run before the suite. Fast (seconds),
# needs no build and no server; exits 1 naming every check that found something.
#
#   scripts/lint.sh
#
#   - every shell script (*.sh, and any file whose #! line runs bash or sh) by shellcheck
#   - every Python file by `ruff check`, with the rules of ruff.toml
#   - and by `ruff format --check`: the Python is as ruff formats it
#
# Tools: shellcheck from Debian, ruff from scripts/install-ruff.sh (scripts/install-deps.sh
# installs both); RUFF=/path/to/ruff overrides the venv's.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
ruff="${RUFF:-${CLICKFLOW_STACK_DEPS_DIR:-$repo/var/deps}/ruff-venv/bin/ruff}"

command -v shellcheck >/dev/null || { echo "lint: shellcheck not found: run scripts/install-deps.sh" >&2; exit 1; }
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

# C++: clang-format (--dry-run --Werror) and clang-tidy run here, on the sources of src/,
# tests/ and bench/, once .clang-format and .clang-tidy are in the repository.

if ((${#failed[@]})); then
  echo "lint: failed: ${failed[*]}" >&2
  exit 1
fi
echo "lint: all checks passed"
