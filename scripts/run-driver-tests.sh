#!/usr/bin/env bash
# run-driver-tests.sh BUILD_DIR - run the test driver's suite under Wine and
# record its closing counts in BUILD_DIR/summary for scripts/check.sh.
set -uo pipefail
dir=$1
here=$(dirname "$0")
out=$dir/driver-tests.out

"$here/wine-run.sh" "$dir" "$dir/tests/driver/wdkm_test_runner.exe" | tee "$out"
rc=${PIPESTATUS[0]}
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$out" | tail -1)
if [ -n "$counts" ]; then
  read -r p _ f _ s _ <<<"$counts"
else
  p=0 f=1 s=0          # the runner never got to its summary
fi
[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1

# Tests that print "expect-log: TEXT" ask for TEXT in the debugger output
# (the library's own DbgPrintEx lines): each is one more check here.
log=$dir/wine-debug.log
while IFS= read -r want; do
  [ -n "$want" ] || continue
  # No grep -q at the end of a pipe: under pipefail its early exit would
  # fail the pipe (SIGPIPE to the first grep) exactly when the text is found.
  if grep -a -F -- "$want" "$log" | grep -a -v "expect-log:" >/dev/null; then
    echo "PASS log: $want"
    p=$((p + 1))
  else
    echo "FAIL log: not in the debugger output: $want"
    f=$((f + 1))
  fi
done < <(grep -a -o "expect-log: .*" "$log" 2>/dev/null | sed 's/^expect-log: //; s/\\n$//' | sort -u)
echo "$p $f $s" >"$dir/summary"
echo "driver (Wine): $p passed, $f failed, $s skipped"
[ $rc -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ]
