#!/usr/bin/env bash
# Install the Kafka broker's runtime jars (resolved from Maven Central via
# kafka/pom.xml, no release tarball) into a single flat folder of jars.
#
#   scripts/install-kafka.sh [dest_dir]
#
# dest_dir defaults to $CLICKFLOW_KAFKA_LIBS, else
# $HOME/.local/share/clickflow/kafka/libs. Run the broker with
#   java -cp "<dest_dir>/*" kafka.Kafka server.properties
#
# Idempotent: a stamp file in dest_dir holds the sha256 of kafka/pom.xml;
# when it matches, nothing is done. The jars are copied into a temporary
# sibling folder that is renamed into place only when complete, so an
# interrupted install never leaves a half-filled dest_dir.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pom="$repo_root/kafka/pom.xml"
dest="${1:-${CLICKFLOW_KAFKA_LIBS:-$HOME/.local/share/clickflow/kafka/libs}}"
stamp_name=".clickflow-kafka-pom.sha256"

[[ -f "$pom" ]] || { echo "install-kafka: missing $pom" >&2; exit 1; }
want="$(sha256sum "$pom" | cut -d' ' -f1)"

is_current() {
  [[ -f "$dest/$stamp_name" ]] && [[ "$(cat "$dest/$stamp_name")" == "$want" ]]
}

if is_current; then
  echo "install-kafka: up to date in $dest"
  exit 0
fi

command -v mvn >/dev/null || { echo "install-kafka: mvn not found" >&2; exit 1; }

dest="${dest%/}"
parent="$(dirname "$dest")"
mkdir -p "$parent"
# Make absolute so later cd's or relative args cannot confuse the rename.
parent="$(cd "$parent" && pwd)"
dest="$parent/$(basename "$dest")"

# Serialise concurrent installers on the same destination.
exec 9>"$dest.lock"
if command -v flock >/dev/null; then
  flock 9
  if is_current; then
    echo "install-kafka: up to date in $dest"
    exit 0
  fi
  # Leftovers of an install that was killed (we hold the lock: none is live).
  rm -rf "$dest".tmp.* "$dest".old.*
fi

tmp="$(mktemp -d "$dest.tmp.XXXXXX")"
old=""
cleanup() {
  rm -rf "$tmp"
  [[ -n "$old" ]] && rm -rf "$old"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
mkdir "$tmp/.mvn-log"
mvn_log="$tmp/.mvn-log/mvn.log"
if ! mvn -B -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
  tail -n 40 "$mvn_log" >&2
  echo "install-kafka: maven failed (kafka/pom.xml)" >&2
  exit 1
fi
rm -rf "$tmp/.mvn-log"
shopt -s nullglob
jars=("$tmp"/*.jar)
(( ${#jars[@]} > 0 )) || { echo "install-kafka: maven copied no jars" >&2; exit 1; }
printf '%s\n' "$want" >"$tmp/$stamp_name"

if [[ -e "$dest" ]]; then
  old="$(mktemp -d "$dest.old.XXXXXX")"
  mv -T "$dest" "$old/libs"
fi
mv -T "$tmp" "$dest"

echo "install-kafka: installed ${#jars[@]} jars into $dest in $((SECONDS - start))s"
