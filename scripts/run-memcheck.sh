#!/usr/bin/env bash
# run-memcheck.sh BUILD_DIR - the host unit tests under valgrind memcheck:
# any invalid access, uninitialised read or leak fails the stage. Closes
# with "memcheck: N passed, N failed" and writes BUILD_DIR/../memcheck/summary.
set -uo pipefail
dir=$1
out=$(dirname "$dir")/memcheck
mkdir -p "$out"
log=$out/memcheck.log

# Valgrind runs one thread at a time and delivers signals at its own
# pace, so the tests that time the delivery of an injected DPC or APC (they
# run in every other stage, plain, ASan, TSan and under check-interrupts)
# are left out here, each reported as SKIP with the reason; so are those
# that start the test program again as a child (valgrind cannot start
# /proc/self/exe). One ';'-separated reason per ';'-separated group.
WDKM_TEST_SKIP="grt.suspended_looker,grt.destroy_timeout_bounds,grt.unregister_waits_for_interrupted,grt.growth_waits_for_interrupted,random_dpcs,special kernel APC unregisters on a registering,attack24.injected_dpcs_into_list_worker,_in_owner_window,attack25.interrupt_storm,attack25.resource_special_apc_exclusive_at_shared_edges,attack26.random_events_on_holder_never_destroy_held,attack26.resource_recursion_exact_under_random_apcs,attack26.spin_random_dpcs_never_refuse_legitimate_nests,attack27.injected_events_on_inserters_and_canceller,attack30.records_race_unregister_replace_destroy,attack30.random_injection_on_holders,attack30.reference_caches_reentered_by_events,grt_cache.lookups_in_every_word_race_retirement,attack32.stop_waits_and_keeps_queued_events,attack32.drained_under_injected_events,rundown.seeded-model,rundown.free-after-wait,rundown.interrupts-on-holder,attack34.free_right_after_wait,attack34.multi_thread_model,attack32.random_injection_never_on_dpc_thread;attack32.seed_replays_each_threads_choices,attack32.environment_starts_injection" \
WDKM_TEST_SKIP_REASON="times the delivery of injected interrupts, which valgrind serialises; run in every other stage;runs the test program again as a child through /proc/self/exe, which valgrind cannot start; run in every other stage" \
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    -q "$dir/tests/unit/wdkm_unit_tests" >"$log" 2>&1
rc=$?
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
