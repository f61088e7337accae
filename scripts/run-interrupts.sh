#!/usr/bin/env bash
# run-interrupts.sh OUT_DIR [--long] BUILD_DIR... - the host suites that
# race the most (stress, registry "grt", cancel-safe queue "csq", checked
# diagnostics "diag", the model-based walk "model"), run with interrupt
# injection on (WDKM_HOST_INTERRUPTS, docs/host-testing.md):
# DPCs and kernel APCs land on every test thread at random and run the
# interrupt action set (tests/unit/wdkm_test_interrupts.c). Prints every
# failure with the seed to replay it and every test left out (SKIP, with
# the reason), closes with "check-interrupts: N passed, N failed, N
# skipped", and writes the counts to OUT_DIR/summary for scripts/check.sh.
#
# INTERRUPT_SEED=N replays a seed (default 1); INTERRUPT_EXTRA="dpc=0,..."
# overrides settings (later keys win); --long runs the stress suite's long
# form (WDKM_STRESS_OPS=200000) with a higher rate.
set -uo pipefail
out=$1
shift
long=0
if [ "${1:-}" = "--long" ]; then
  long=1
  shift
fi
seed=${INTERRUPT_SEED:-1}
mkdir -p "$out"
log=$out/test.log
: >"$log"
passed=0 failed=0 skipped=0

if [ $long -eq 1 ]; then
  settings="seed=$seed,interval=100,dpc=2,napc=1,sapc=1,suspend=300"
  export WDKM_STRESS_OPS=${WDKM_STRESS_OPS:-200000}
else
  settings="seed=$seed,interval=200,dpc=2,napc=1,sapc=1,suspend=200"
fi
if [ -n "${INTERRUPT_EXTRA:-}" ]; then
  settings="$settings,$INTERRUPT_EXTRA"
fi

# program suite-filter: the suites each program runs under injection.
runs=(
  "wdkm_unit_tests          stress."
  "wdkm_unit_tests          grt."
  "wdkm_unit_tests          grt_cache."
  "wdkm_unit_tests          attack21."
  "wdkm_unit_tests          csq."
  "wdkm_unit_tests_checked  stress."
  "wdkm_unit_tests_checked  grt."
  "wdkm_unit_tests_checked  diag."
  "wdkm_unit_tests_checked  attack23."
  "wdkm_unit_tests          model."
  "wdkm_unit_tests_checked  model."
)

# One run: its log in $out/run.N.log, its report in $out/report.N and its
# counts in $out/counts.N.
run_one() {
  local n=$1 dir=$2 program=$3 filter=$4
  local exe=$dir/tests/unit/$program
  local label="$(basename "$dir") $program $filter"
  local run_log=$out/run.$n.log start=$SECONDS rc p f s
  # Tests whose premise random injection breaks would be left out here
  # (the runner reports each as SKIP with the reason and counts it) and
  # run in every stage without injection. None is now: the thread-table
  # tests count records exactly under injection too (an event is its
  # thread, and parks again what it took: diagnostics.md, Limits).
  WDKM_TEST_SKIP="" WDKM_TEST_SKIP_REASON="" \
  WDKM_HOST_INTERRUPTS=$settings timeout 600 "$exe" "$filter" >"$run_log" 2>&1
  rc=$?
  p=$(grep -cE '^PASS ' "$run_log")
  f=$(grep -cE '^FAIL ' "$run_log")
  s=$(grep -cE '^SKIP ' "$run_log")
  {
    # A crash, sanitizer report or bug check ends the program without a FAIL line.
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
      f=1
    fi
    if [ "$f" -ne 0 ] || [ "$p" -eq 0 ]; then
      grep -E '^FAIL |^    |interrupt violation|ERROR: (Address|Thread|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error|\*\*\* STOP|seed' "$run_log" | head -40
      echo "($label: exit $rc; replay: WDKM_HOST_INTERRUPTS=\"$settings\" $exe $filter)"
      [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1
    fi
    echo "  $label: $p passed, $f failed, $s skipped ($((SECONDS - start)) s) $(grep -E '^interrupts \(' "$run_log" | sed 's/^interrupts //')"
    grep -E '^SKIP ' "$run_log" | sed 's/^/    /'
  } >"$out/report.$n"
  echo "$p $f $s" >"$out/counts.$n"
}

# The runs go side by side, one per processor (each program runs its own
# tests one after another; WDKM_TEST_JOBS overrides); their reports are
# printed in the list's order once all are done.
jobs_max=${WDKM_TEST_JOBS:-$(nproc)}
n=0
for dir in "$@"; do
  for entry in "${runs[@]}"; do
    read -r program filter <<<"$entry"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
      wait -n
    done
    rm -f "$out/counts.$n"
    run_one "$n" "$dir" "$program" "$filter" &
    n=$((n + 1))
  done
done
wait
for ((i = 0; i < n; i++)); do
  cat "$out/run.$i.log" >>"$log"
  cat "$out/report.$i" 2>/dev/null
  if [ -f "$out/counts.$i" ]; then
    read -r p f s <"$out/counts.$i"
  else
    echo "  run $i reported nothing"
    p=0 f=1 s=0
  fi
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  rm -f "$out/run.$i.log" "$out/report.$i" "$out/counts.$i"
done
echo "$passed $failed $skipped" >"$out/summary"
echo "check-interrupts: $passed passed, $failed failed, $skipped skipped (WDKM_HOST_INTERRUPTS=\"$settings\")"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
