#!/usr/bin/env bash
# chlint's benchmark: builds a monorepo-like tree and prints throughput,
# the ratio to the time needed only to read the same bytes, peak memory, the
# latency of a one-file call and the speed relative to checkov.
#
#   bench/run.sh            everything (installs checkov into bench/out/venv)
#   bench/run.sh --quick    skip checkov
#
# Related: bench/instructions.sh counts the instructions of one run
# (callgrind: repeatable on a busy machine); bench/compare.sh checks that two
# builds print the same output.
#
# Figures are printed, never asserted: compare ratios measured in one run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OUT=${BENCH_OUT:-$ROOT/bench/out}
CORPUS=$(realpath "${CORPUS:-$ROOT/../shared/corpus}")
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

cargo build --release --quiet
BIN=$ROOT/target/release/chlint
mkdir -p "$OUT"

cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
echo "machine: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $(rustc --version)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows every figure; ratios are measured in one run)"
echo "chlint:  $($BIN --version)"

python3 "$ROOT/bench/make_trees.py" "$CORPUS" "$OUT"

measure() { # name dir
  local name=$1 dir=$2
  python3 "$ROOT/bench/measure.py" "$name" "$dir" "$BIN"
}
echo
measure "corpus x51 (nested)" "$OUT/corpus-tree"
measure "synthetic" "$OUT/synthetic-tree"

echo
python3 "$ROOT/bench/latency.py" "$BIN" "$ROOT/examples/open/config.d/network.xml"

if [ "$QUICK" = 0 ]; then
  echo
  if [ ! -x "$OUT/venv/bin/checkov" ]; then
    python3 -m venv "$OUT/venv"
    "$OUT/venv/bin/pip" install --quiet checkov
  fi
  python3 "$ROOT/bench/versus_checkov.py" "$BIN" "$OUT/venv/bin/checkov" "$CORPUS"
fi
