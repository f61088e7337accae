#!/usr/bin/env bash
# run-wine-reliability.sh KERNEL_BUILD OUT_DIR [runner options...]
#
# The Wine reliability run (docs/reliability.md, "Wine, real driver"):
# tests/wine-reliability/wdkm_rel_runner.exe from the kernel build
# KERNEL_BUILD loads and unloads wdkm_rel_driver.sys (default 100 times),
# then hammers it from several threads (default 4 threads x 4 s; options
# --cycles N --seconds S --threads T). It runs in a private Wine prefix in
# OUT_DIR (never another build's), so it can run beside other Wine jobs.
#
# Afterwards this script reads the driver's unload reports from
# OUT_DIR/wine-debug.log: one DbgPrintEx line per load,
#   WdkmRel: unload tag N: pool B blocks Y bytes outstanding (...);
#            registry STATUS_..., ...; E destroy errors; ...
# and fails unless every load the runner made (tags 1..N) reported
# 0 blocks, 0 bytes, a successful registry destroy and no destroy error.
# A missing report fails too.
#
# Prints the runner's figures and PASS/FAIL lines, then its own; writes
# OUT_DIR/summary ("passed failed skipped") for scripts/check.sh. Exit
# status 0 only if everything passed.
set -uo pipefail
if [ "$#" -lt 2 ]; then
  echo "usage: $0 KERNEL_BUILD OUT_DIR [--cycles N] [--seconds S] [--threads T]" >&2
  exit 2
fi
build=$1 out=$2
shift 2
here=$(dirname "$0")
runner=$build/tests/wine-reliability/wdkm_rel_runner.exe
result=$out/reliability.out
log=$out/wine-debug.log

mkdir -p "$out"
rm -f "$out/summary"
start=$SECONDS
"$here/wine-run.sh" "$out" "$runner" "$@" | tee "$result"
rc=${PIPESTATUS[0]}

passed=$(grep -c '^PASS ' "$result")
failed=$(grep -c '^FAIL ' "$result")

check() {   # check PASSED NAME TEXT
  if [ "$1" -eq 1 ]; then
    echo "PASS $2: $3"; passed=$((passed + 1))
  else
    echo "FAIL $2: $3"; failed=$((failed + 1))
  fi
}

# --- The driver's unload reports ---------------------------------------------
expected=$(sed -n 's/^unload reports expected: \([0-9][0-9]*\).*/\1/p' "$result" | tail -1)
reports=$(grep -a 'WdkmRel: unload tag ' "$log" 2>/dev/null | sed 's/.*WdkmRel: unload tag //')
IFS='|' read -r count bad missing firstmissing last firstbad < <(printf '%s\n' "$reports" | awk -v expected="${expected:-0}" '
  # "N: pool B blocks Y bytes outstanding (A allocations, F failed); registry S, ...; E destroy errors; ..."
  NF == 0 { next }
  {
    tag = $1; sub(":", "", tag); tag += 0
    blocks = $3; bytes = $5; registry = $0; errors = $0
    sub(/.*registry /, "", registry); sub(/,.*/, "", registry)
    sub(/ destroy errors.*/, "", errors); sub(/.*; /, "", errors)
    seen[tag] += 1; reports += 1
    if (blocks != 0 || bytes != 0 || registry != "STATUS_SUCCESS" || errors != 0) {
      bad += 1
      if (firstbad == "") firstbad = "tag " tag ": " blocks " blocks, " bytes " bytes, registry " registry ", " errors " destroy errors"
    }
    last = blocks " blocks, " bytes " bytes"
  }
  END {
    for (t = 1; t <= expected; t++) if (seen[t] != 1) { missing += 1; if (firstmissing == "") firstmissing = t }
    printf "%d|%d|%d|%d|%s|%s\n", reports, bad, missing, firstmissing, (last == "" ? "no report" : last), firstbad
  }')

echo "unload reports: $count found in $log, ${expected:-?} expected; library pool after the last unload: $last"
if [ -z "$expected" ] || [ "$expected" -eq 0 ]; then
  check 0 pool_at_unload "the runner made no load (or never said how many); nothing to check"
elif [ "$missing" -ne 0 ] || [ "$count" -ne "$expected" ]; then
  check 0 pool_at_unload "$count unload reports for $expected loads (first missing or repeated: tag $firstmissing)"
elif [ "$bad" -ne 0 ]; then
  check 0 pool_at_unload "$bad of $count unloads left something behind (first: $firstbad)"
else
  check 1 pool_at_unload "$count of $count unloads: 0 blocks, 0 bytes of library pool outstanding, registry destroyed, no destroy error"
fi

# A runner that failed without a FAIL line (harness error, timeout) still fails.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  check 0 runner "wdkm_rel_runner.exe exited with status $rc"
fi

echo "$passed $failed 0" >"$out/summary"
echo "wine reliability: $passed passed, $failed failed, 0 skipped ($((SECONDS - start)) s)"
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ]
