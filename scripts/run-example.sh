#!/usr/bin/env bash
# run-example.sh DRIVER_BUILD OUT_DIR - the WDM examples under Wine: the
# event-notification driver (examples/eventnotify, docs/csq.md) and the
# polled-read driver (examples/pollread), the worker-thread driver
# (examples/threadq) and the timer-DPC and work-item driver
# (examples/ticker). Each client loads the release
# driver, then the checked one, and checks every count. Two tests each:
#   release  the client's exact counts, no library pool at unload;
#   checked  the same, plus the checked library's leak check clean and no
#            lock-order or context violation in the driver's debug output.
# Wine prefix and logs in OUT_DIR; "passed failed skipped" in OUT_DIR/summary.
set -uo pipefail
driver_build=$1
out=$2
here=$(dirname "$0")
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

passed=0 failed=0
run() {
  local example=$1 name=$2 image=$3 marker=$4
  local dir=$driver_build/examples/$example
  local log=$out/$name.out
  echo "--- $example ($name): $image"
  WDKM_WINE_TIMEOUT=${WDKM_WINE_TIMEOUT:-300} \
    "$here/wine-run.sh" "$out" "$dir/${example}_client.exe" "$(cd "$dir" && pwd -P)/$image" >"$log"
  local rc=$?
  cp "$out/wine-debug.log" "$out/$name-wine-debug.log" 2>/dev/null
  cat "$log"
  if [ $rc -ne 0 ] || ! grep -aq "^RESULT: $marker" "$log"; then
    echo "FAIL $example ($name): exit status $rc (Wine log: $out/$name-wine-debug.log)"
    return 1
  fi
  return 0
}

# example, its success line's start
for pair in "eventnotify:every request ended exactly once" "pollread:every read ended exactly once" \
            "threadq:every job ended exactly once" \
            "ticker:every unit was counted exactly once"; do
  example=${pair%%:*}
  marker=${pair#*:}
  prefix=$example-
  [ "$example" = eventnotify ] && prefix=    # its logs keep their old names
  if run "$example" "${prefix}release" "$example.sys" "$marker"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  if run "$example" "${prefix}checked" "${example}_checked.sys" "$marker" &&
     grep -aq "wdkmutex: leak check: clean: .* 0 order and 0 context violation(s)" \
          "$out/${prefix}checked-wine-debug.log"; then
    echo "$example checked build: $(grep -a "wdkmutex: leak check" "$out/${prefix}checked-wine-debug.log" | sed 's/^.*wdkmutex: //')"
    passed=$((passed + 1))
  else
    echo "FAIL $example (checked): no clean leak check in $out/${prefix}checked-wine-debug.log"
    failed=$((failed + 1))
  fi
done

echo "$passed $failed 0" >"$out/summary"
echo "example: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
