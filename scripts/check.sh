#!/usr/bin/env bash
# check.sh - every test stage of `make check`, each reported on its own,
# then the total. Runs all stages even after a failure; exits non-zero if
# any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}

stages=(
  "check-host    host"
  "check-asan    host-asan"
  "check-tsan    host-tsan"
  "check-memcheck  memcheck"
  "check-interrupts  interrupts"
  "check-driver  driver"
  "check-wine-reliability  wine-reliability"
  "check-example       example"
  "check-portability   portability"
  "check-annotations   annotations"
  "check-thread-safety thread-safety"
  "check-scope-seh     scope-seh"
  "check-examples      examples"
  "check-package       package"
  "check-amalgamation  driver-amalgamation"
  "check-bench         bench-smoke"
  "check-fuzz          fuzz"
  "check-mutations     mutations"
)

total_pass=0 total_fail=0 total_skip=0 failed_stages=()
for entry in "${stages[@]}"; do
  read -r target dir <<<"$entry"
  echo "=== $target"
  rm -f "$build/$dir/summary"
  start=$SECONDS
  if ! make --no-print-directory "$target"; then
    failed_stages+=("$target")
  fi
  echo "    ($((SECONDS - start)) s)"
  if [ -f "$build/$dir/summary" ]; then
    read -r p f s <"$build/$dir/summary"
    total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
  elif [[ ! " ${failed_stages[*]} " == *" $target "* ]]; then
    failed_stages+=("$target")   # a stage that reports nothing did not run its tests
  fi
done

echo
if [ ${#failed_stages[@]} -ne 0 ]; then
  echo "FAILED stages: ${failed_stages[*]}"
  [ "$total_fail" -eq 0 ] && total_fail=${#failed_stages[@]}
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ ${#failed_stages[@]} -eq 0 ]
