#!/usr/bin/env bash
# run.sh [SECONDS] - build the libFuzzer target (clang, ASan+UBSan) in
# build/fuzz and run it for SECONDS (default 60) over the corpus in build/fuzz/corpus.
# Exits non-zero if the build fails or the fuzzer finds a difference
# between the library and the model (the input is saved in build/fuzz).
# Writes build/fuzz/summary ("passed failed skipped") for scripts/check.sh.
#   tests/fuzz/run.sh 60     # `make fuzz`
#   tests/fuzz/run.sh 5      # smoke run for `make check`
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
build=${BUILD:-build}/fuzz
mkdir -p "$build"
echo "0 1 0" >"$build/summary"     # "passed failed skipped" for scripts/check.sh
cmake -S tests/fuzz -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target wdkm_fuzz_registry >/dev/null
mkdir -p "$build/corpus"
log=$build/fuzz.log
set +e
"$build/wdkm_fuzz_registry" -max_total_time="$seconds" -max_len=2048 -print_final_stats=1 \
    -artifact_prefix="$build/" "$build/corpus" >"$log" 2>&1
rc=$?
set -e
grep -E '^stat::number_of_executed_units|^stat::peak_rss|model mismatch|ERROR:|STOP' "$log" || true
if [ $rc -ne 0 ]; then
  tail -40 "$log"
  echo "fuzz: 0 passed, 1 failed (log $log)"
  exit 1
fi
echo "1 0 0" >"$build/summary"
echo "fuzz: 1 passed, 0 failed (${seconds} s)"
