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
exit $rc
