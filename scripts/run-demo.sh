#!/usr/bin/env bash
# run-demo.sh BUILD_DIR - load the demo driver under Wine (private prefix in
# BUILD_DIR), print its report, then what the driver logged at unload.
set -uo pipefail
dir=$1
here=$(dirname "$0")

"$here/wine-run.sh" "$dir" "$dir/examples/demo/wdkm_demo_report.exe"
rc=$?
last=$(grep -a "WdkmDemo: registry destroyed" "$dir/wine-debug.log" 2>/dev/null | tail -1 | sed 's/.*WdkmDemo: //')
if [ -n "$last" ]; then
  echo "At unload the driver logged (DbgPrintEx): $last"
fi
[ $rc -eq 0 ] || exit $rc

# The same demo, checked build: what the diagnostics add (docs/diagnostics.md).
echo
echo "== The checked build of the same driver (WDKM_CHECKED=1): its diagnostics =="
"$here/wine-run.sh" "$dir" "$dir/examples/demo/wdkm_demo_report.exe" \
    "$dir/examples/demo/wdkm_demo_checked.sys" >"$dir/demo-checked.out"
rc=$?
if [ $rc -ne 0 ]; then
  cat "$dir/demo-checked.out"
  exit $rc
fi
if ! grep -aq "RESULT: every count is exact" "$dir/demo-checked.out"; then
  cat "$dir/demo-checked.out"
  echo "The checked driver's counts were not exact."
  exit 1
fi
echo "Its own report, as the release build's: $(grep -ac " exact.\?$" "$dir/demo-checked.out") counts exact."
echo "Its debugger output (DbgPrintEx, component IHVDRIVER) from the diagnostics:"
grep -a "wdkmutex: " "$dir/wine-debug.log" | sed 's/^.*wdkmutex: /  /'
grep -aq "LOCK ORDER VIOLATION" "$dir/wine-debug.log" && grep -aq "leak check: clean" "$dir/wine-debug.log"
