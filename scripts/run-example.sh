#!/usr/bin/env bash
# run-example.sh DRIVER_BUILD OUT_DIR - the event-notification example
# (examples/eventnotify, docs/csq.md) under Wine: its client loads the
# release driver, then the checked one, and checks every count. Two tests:
#   release  the client's exact counts, no library pool at unload;
#   checked  the same, plus the checked library's leak check clean and no
#            lock-order or context violation in the driver's debug output.
# Wine prefix and logs in OUT_DIR; "passed failed skipped" in OUT_DIR/summary.
set -uo pipefail
driver_build=$1
out=$2
here=$(dirname "$0")
dir=$driver_build/examples/eventnotify
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

passed=0 failed=0
run() {
  local name=$1 image=$2
  local log=$out/$name.out
  echo "--- eventnotify ($name): $image"
  WDKM_WINE_TIMEOUT=${WDKM_WINE_TIMEOUT:-300} \
    "$here/wine-run.sh" "$out" "$dir/eventnotify_client.exe" "$(cd "$dir" && pwd -P)/$image" >"$log"
  local rc=$?
  cp "$out/wine-debug.log" "$out/$name-wine-debug.log" 2>/dev/null
  cat "$log"
  if [ $rc -ne 0 ] || ! grep -aq "^RESULT: every request ended exactly once" "$log"; then
    echo "FAIL eventnotify ($name): exit status $rc (Wine log: $out/$name-wine-debug.log)"
    return 1
  fi
  return 0
}

if run release eventnotify.sys; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

if run checked eventnotify_checked.sys &&
   grep -aq "wdkmutex: leak check: clean: .* 0 order and 0 context violation(s)" \
        "$out/checked-wine-debug.log"; then
  echo "checked build: $(grep -a "wdkmutex: leak check" "$out/checked-wine-debug.log" | sed 's/^.*wdkmutex: //')"
  passed=$((passed + 1))
else
  echo "FAIL eventnotify (checked): no clean leak check in $out/checked-wine-debug.log"
  failed=$((failed + 1))
fi

echo "$passed $failed 0" >"$out/summary"
echo "example: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
