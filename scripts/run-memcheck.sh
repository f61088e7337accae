#!/usr/bin/env bash
# run-memcheck.sh BUILD_DIR - the host unit tests under valgrind memcheck:
# any invalid access, uninitialised read or leak fails the stage. Closes
# with "memcheck: N passed, N failed" and writes BUILD_DIR/../memcheck/summary.
set -uo pipefail
dir=$1
out=$(dirname "$dir")/memcheck
mkdir -p "$out"
log=$out/memcheck.log

# Valgrind runs one thread at a time. --fair-sched=yes hands the CPU round
# robin: with its default lock, a thread spinning on a flag (a holder
# waiting to be told to release, an interrupt controller retrying) kept
# the others waiting, and the tests that race waits against injected DPCs
# and APCs took minutes each (rundown.seeded-model 19.9 s alone, over 6
# minutes in the full program; 9.6 s with fair scheduling).
# WDKM_TEST_TIME_SCALE stretches the tests' give-up deadlines (never their
# counting windows or timing claims; wdkm_test.h) to what valgrind's speed
# needs. Left out, each reported as SKIP with the reason: the tests whose
# DPC must land inside a registry reader section a few instructions long
# (valgrind delivers a signal only where it switches threads, so it never
# does), and those that start the test program again as a child (valgrind
# cannot start /proc/self/exe). One ';'-separated reason (so no ';' in
# one) per ';'-separated group; each runs in every other stage.
# The tests are split into one shard per processor (WDKM_TEST_SHARD, each
# its own valgrind: valgrind runs one thread at a time, so a single
# process uses one processor); a shard's errors fail the stage as before.
export WDKM_TEST_TIME_SCALE=20
export WDKM_TEST_SKIP="grt.destroy_timeout_bounds,grt.unregister_waits_for_interrupted,grt.growth_waits_for_interrupted;attack32.seed_replays_each_threads_choices,attack32.environment_starts_injection"
export WDKM_TEST_SKIP_REASON="needs a DPC to land inside a reader section a few instructions long, and valgrind delivers signals only where it switches threads (run in every other stage);runs the test program again as a child through /proc/self/exe, which valgrind cannot start (run in every other stage)"
shards=${WDKM_TEST_JOBS:-$(nproc)}
pids=()
for ((shard = 0; shard < shards; shard++)); do
  WDKM_TEST_SHARD=$shard/$shards \
  valgrind --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
      -q "$dir/tests/unit/wdkm_unit_tests" >"$log.$shard" 2>&1 &
  pids+=($!)
done
rc=0
for ((shard = 0; shard < shards; shard++)); do
  wait "${pids[$shard]}" || rc=$?
done
for ((shard = 0; shard < shards; shard++)); do
  cat "$log.$shard"
  rm -f "$log.$shard"
done >"$log"
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1                      # a memcheck error, or a crash
fi
if [ "$failed" -ne 0 ]; then
  grep -E '^(FAIL |==[0-9]+==)' "$log" | head -40
  echo "(memcheck: full log in $log)"
fi
echo "$passed $failed $skipped" >"$out/summary"
grep '^SKIP ' "$log" | sed 's/^/  /'
echo "memcheck: $passed passed, $failed failed, $skipped skipped"
[ $rc -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
