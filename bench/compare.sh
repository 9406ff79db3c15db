#!/usr/bin/env bash
# Compare the output of two chlint builds on the same inputs, in every
# format: a change made for speed must not change a byte of the output.
#
#   bench/compare.sh OLD_BINARY NEW_BINARY PATH...
set -uo pipefail
old=$1 new=$2
shift 2
status=0
for path in "$@"; do
  for format in json human sarif github; do
    a=$("$old" check --format "$format" "$path" 2>&1; echo "exit $?")
    b=$("$new" check --format "$format" "$path" 2>&1; echo "exit $?")
    if [ "$a" != "$b" ]; then
      echo "DIFFERENT: $path ($format)"
      diff <(echo "$a") <(echo "$b") | head -20
      status=1
    fi
  done
done
[ $status = 0 ] && echo "same output on $# path(s)"
exit $status
