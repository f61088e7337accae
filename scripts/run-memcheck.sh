#!/usr/bin/env bash
# run-memcheck.sh BUILD_DIR - the host unit tests under valgrind memcheck:
# any invalid access, uninitialised read or leak fails the stage. Closes
# with "memcheck: N passed, N failed" and writes BUILD_DIR/../memcheck/summary.
set -uo pipefail
dir=$1
out=$(dirname "$dir")/memcheck
mkdir -p "$out"
log=$out/memcheck.log

valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    -q "$dir/tests/unit/wdkm_unit_tests" >"$log" 2>&1
rc=$?
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1                      # a memcheck error, or a crash
fi
if [ "$failed" -ne 0 ]; then
  grep -E '^(FAIL |==[0-9]+==)' "$log" | head -40
  echo "(memcheck: full log in $log)"
fi
echo "$passed $failed 0" >"$out/summary"
echo "memcheck: $passed passed, $failed failed"
[ $rc -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
