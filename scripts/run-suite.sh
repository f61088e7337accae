#!/usr/bin/env bash
# run-suite.sh LABEL BUILD_DIR - run a host build's tests through ctest,
# show every failure, and close with "LABEL: N passed, N failed". The
# counts also go to BUILD_DIR/summary for scripts/check.sh.
set -uo pipefail
label=$1
dir=$2
log=$dir/test.log

# The programs run side by side, one per processor (each runs its own
# tests one after another; WDKM_TEST_JOBS overrides). -V keeps every
# line, prefixed with its test's number. ctest relays the programs' output
# in chunks and now and then splices the start of one line onto another
# (docs/reliability.md), so results are counted wherever they start.
ctest --test-dir "$dir" -V -j "${WDKM_TEST_JOBS:-$(nproc)}" --timeout 900 >"$log" 2>&1
rc=$?
passed=$(grep -oE '(^|[^0-9])[0-9]+: PASS ' "$log" | wc -l)
failed=$(grep -oE '(^|[^0-9])[0-9]+: FAIL ' "$log" | wc -l)
# A crash, sanitizer report or simulated bugcheck ends a program without
# its own FAIL line: ctest's status still counts it.
if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
if [ "$failed" -ne 0 ]; then
  grep -E '^[0-9]+: (FAIL |    )|ERROR: (Address|Thread|Leak)Sanitizer|runtime error|\*\*\* STOP|\*\*\*Failed|Exception' "$log" | head -60
  echo "($label: full log in $log)"
fi
echo "$passed $failed 0" >"$dir/summary"
echo "$label: $passed passed, $failed failed"
[ $rc -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
