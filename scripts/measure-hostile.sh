#!/usr/bin/env bash
# Time and peak memory of a release build of chlint on the hostile cases of
# tests/hostile.rs (written into a temporary folder). Not run in CI.
#
#   scripts/measure-hostile.sh [OUT_DIR]
#
# Prints, per case: exit code, wall time, peak resident memory (GNU time).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:-$(mktemp -d)}"
cargo build --release --quiet
CHLINT_HOSTILE_OUT="$out" cargo test --quiet --test hostile -- --ignored write_hostile_set >/dev/null
bin="$PWD/target/release/chlint"
printf '%-14s %4s %8s %10s\n' case exit seconds max-RSS-KB
stats="$(mktemp)"
for dir in "$out"/*/; do
    code=0
    /usr/bin/time -o "$stats" -f '%e %M' "$bin" check --format json "$dir" >/dev/null 2>&1 || code=$?
    read -r seconds rss < <(tail -1 "$stats")
    printf '%-14s %4s %8s %10s\n' "$(basename "$dir")" "$code" "$seconds" "$rss"
done
rm -f "$stats"
