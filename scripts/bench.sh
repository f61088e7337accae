#!/usr/bin/env bash
# bench.sh - build the benchmarks (release and checked), run them on the
# host, under callgrind and under Wine, and write the results
# (bench/README.md).
#
#   scripts/bench.sh           full run (about a minute): bench/results/latest.{json,md}
#                              and bench/results/registry_lookup.svg
#   scripts/bench.sh --smoke   seconds: the same files in build/bench-smoke/
#
# Raw output (sample lines, callgrind dumps, logs) stays in
# build/bench-{full,smoke}/raw. Exits non-zero only if a benchmark could
# not be built or run, or its output is malformed; never because a target
# is missed. Writes "passed failed skipped" (parts of the run) to
# build/bench-{full,smoke}/summary for scripts/check.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
jobs=$(nproc 2>/dev/null || echo 2)

mode=full
case "${1:-}" in
  --smoke) mode=smoke ;;
  "") ;;
  *) echo "usage: $0 [--smoke]" >&2; exit 2 ;;
esac

work=$build/bench-$mode
raw=$work/raw
if [ "$mode" = smoke ]; then out=$build/bench-smoke; else out=bench/results; fi
host_dir=$build/bench-host
driver_dir=$build/bench-driver
rm -rf "$raw" && mkdir -p "$raw" "$out" || exit 1
log=$work/bench.log
: >"$log"

passed=0 failed=0
start_all=$SECONDS
note() { echo "bench: $*"; }
part() {   # part NAME COMMAND...: run one part, count it, keep its output in the log
  local name=$1 start=$SECONDS; shift
  if "$@" >>"$log" 2>&1; then
    passed=$((passed + 1)); note "$name ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); note "$name FAILED ($((SECONDS - start)) s; see $log)"
  fi
}
finish() {
  echo "$passed $failed 0" >"$work/summary"
  note "$passed parts ran, $failed failed, in $((SECONDS - start_all)) s; results in $out"
  [ "$failed" -eq 0 ]
  exit
}

# --- Dependencies: those of the build (install-deps.sh) and valgrind. -------
install_valgrind() {
  command -v valgrind >/dev/null 2>&1 && [ -e /usr/include/valgrind/callgrind.h ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root to install valgrind" >&2; return 1; }
    sudo=sudo
  fi
  echo "installing valgrind"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq valgrind >/dev/null
}
dependencies() { scripts/install-deps.sh && install_valgrind; }
part "dependencies" dependencies
[ "$failed" -eq 0 ] || finish

# --- Build: Release (-O2; -g for callgrind's annotations changes no code). --
build_host() {
  cmake -S . -B "$host_dir" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -g -DNDEBUG" \
        -DWDKM_BENCH=ON &&
    cmake --build "$host_dir" -j "$jobs" --target wdkm_bench_host wdkm_bench_host_checked
}
build_driver() {
  cmake -S . -B "$driver_dir" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-mingw-w64-x86_64.cmake" \
        -DWDKM_KERNEL=ON -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" \
        -DWDKM_BENCH=ON &&
    cmake --build "$driver_dir" -j "$jobs" --target wdkm_bench_runner wdkm_bench_images
}
part "build host (release, checked)" build_host
part "build drivers (release, checked) and runner" build_driver
[ "$failed" -eq 0 ] || finish

# --- Host: in rounds, so that the machine's slow and fast moments (it is
# shared) fall on every variant and size alike: uncontended pairs
# alternating release, checked, and checked with hold timing on, then
# contended pairs and the registry. --
host=$host_dir/bench/wdkm_bench_host
# Many short repetitions (bench/README.md, "Repetitions"): the report gives
# the fastest ones (min, p10) beside the median.
if [ "$mode" = smoke ]; then
  rounds=1 reps=3 thread_reps=3 sizes=10,1000 smoke=--smoke pair_us= thread_us=
else
  rounds=3 reps=16 thread_reps=8 sizes=10,100,1000,10000,100000 smoke=
  pair_us="--microseconds 5000" thread_us="--microseconds 10000"
fi
# The sizes the registry is judged against its peers at run in more
# processes than the others: at 100,000 names where a process's memory
# lands moves a lookup by tens of percent (README, "Noise"), so three
# processes left the verdict to that lottery.
judged_sizes=10,100000 judged_rounds=$((rounds * 3))
[ "$mode" = smoke ] && judged_rounds=$rounds
host_pairs() {
  local round variant
  for round in $(seq "$rounds"); do
    for variant in release checked checked-holds; do
      local program=$host options=
      [ "$variant" != release ] && program=${host}_checked
      [ "$variant" = checked-holds ] && options=--time-holds
      "$program" $smoke $options --groups wrapper --repetitions "$reps" $pair_us \
        >"$raw/host-$variant-$round.txt" || return 1
    done
  done
}
host_threads() {
  local round
  for round in $(seq "$rounds"); do
    "$host" $smoke --groups contended,registry --repetitions "$thread_reps" $thread_us --sizes "$sizes" \
      >"$raw/host-release-threads-$round.txt" || return 1
  done
}
part "host: uncontended pairs, $rounds round(s)" host_pairs
host_judged() {
  local round
  for round in $(seq $((judged_rounds - rounds))); do
    "$host" $smoke --groups registry --repetitions "$thread_reps" $thread_us --sizes "$judged_sizes" \
      >"$raw/host-release-registry-$round.txt" || return 1
  done
}
part "host: contended pairs and registry ($sizes names), $rounds round(s)" host_threads
part "host: registry and peers at $judged_sizes names, $((judged_rounds - rounds)) process(es) more" host_judged

# --- Callgrind: instructions per pair and per lookup, both variants. ---------
# The cache simulation counts the lines a registry lookup fetches; its
# caches are fixed (this machine's L1d and L3) so that the counts do not
# depend on where the benchmark runs.
callgrind() {   # callgrind VARIANT PROGRAM SIZES
  mkdir -p "$raw/callgrind-$1" &&
    valgrind --tool=callgrind --collect-atstart=no --cache-sim=yes \
             --D1=32768,8,64 --LL=33554432,16,64 --callgrind-out-file="$raw/callgrind-$1/cg.out" \
             "$2" --callgrind --sizes "$3" >"$raw/callgrind-$1.log" 2>&1
}
part "callgrind: release" callgrind release "$host" "$sizes"
part "callgrind: checked" callgrind checked "${host}_checked" 10

# --- Wine: both drivers loaded at once by the runner. ----------------------
wine_run() {
  local bin
  bin=$(cd "$driver_dir/bench" && pwd) || return 1   # the runner wants absolute paths
  scripts/wine-run.sh "$driver_dir" "$bin/wdkm_bench_runner.exe" $smoke \
    "release=$bin/wdkm_bench_release.sys" "checked=$bin/wdkm_bench_checked.sys" >"$raw/wine.txt"
}
part "wine: drivers (release, checked)" wine_run

# --- Image cost per kind: a tiny driver per kind and one without the library
# (bench/image/). Their sections and imports, as objdump reads them. ---------
images() {
  local image kind objdump=${OBJDUMP:-x86_64-w64-mingw32-objdump}
  mkdir -p "$raw/images" || return 1
  for image in "$driver_dir"/bench/image/wdkm_bench_image_*.sys; do
    [ -e "$image" ] || return 1
    kind=$(basename "$image" .sys); kind=${kind#wdkm_bench_image_}
    { echo "# file_bytes=$(stat -c %s "$image")"; "$objdump" -h -p "$image"; } \
      >"$raw/images/$kind.objdump" || return 1
  done
}
part "image: a driver per kind" images

# --- Results. ------------------------------------------------------------------
part "report" python3 bench/report.py --raw "$raw" --out "$out" --mode "$mode"
grep -a '^report:' "$log" | tail -1
finish
