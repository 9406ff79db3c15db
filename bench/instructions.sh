#!/usr/bin/env bash
# Instructions one run of chlint executes (valgrind's callgrind counts them
# the same way on a busy machine, where wall times vary): the figure to
# compare two builds by.
#
#   bench/instructions.sh BINARY PATH [callgrind.out]
# Prints the total and, with a third argument, keeps the profile for
# callgrind_annotate.
set -euo pipefail
binary=$1 path=$2 out=${3:-$(mktemp)}
valgrind --tool=callgrind --callgrind-out-file="$out" \
  "$binary" check --format json "$path" > /dev/null 2> "$out.log" || true
total=$(grep -E '^(summary|totals):' "$out" | tail -1 | awk '{print $2}')
printf '%s: %s instructions (%s)\n' "$path" "$(printf "%'d" "$total")" "$(basename "$binary")"
[ $# -ge 3 ] || rm -f "$out" "$out.log"
