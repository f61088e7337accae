#!/usr/bin/env bash
# check-scope-seh.sh [BUILD_DIR] - the scoped forms release on every way
# out of the block, in both builds (include/wdkmutex/wdkm_scope.h):
#
#   seh      tests/seh/test_scope_seh.c compiled by clang
#            --target=x86_64-w64-windows-gnu -fms-extensions with
#            WDKM_SCOPE_SEH=1: the __try/__finally form MSVC users build
#            (clang compiles Microsoft's SEH for Windows targets), linked by
#            mingw-w64 and run under Wine: fall-through, continue, break,
#            return, goto, nested return, __leave and an exception handled
#            outside each release exactly once
#   cleanup  the same source by mingw-w64 gcc with WDKM_SCOPE_SEH=0 (the
#            __attribute__((cleanup)) form, WDKM_SCOPED_END empty): the same
#            exits release
#
# Each program prints PASS/FAIL lines; every one is counted. Summary
# "passed failed skipped" in BUILD_DIR/summary (default build/scope-seh);
# exit status 1 on any failure. Wine runs in BUILD_DIR's private prefix
# (scripts/wine-run.sh).
#
# Environment: CLANG (default clang), MINGW_CC (default
# x86_64-w64-mingw32-gcc), MINGW_DDK (default /usr/x86_64-w64-mingw32/include/ddk).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
out=${1:-build/scope-seh}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
rm -f "$out/summary" "$out"/*.exe "$out"/*.o "$out"/*.log

clang=${CLANG:-clang}
mingw_cc=${MINGW_CC:-x86_64-w64-mingw32-gcc}
mingw_ddk=${MINGW_DDK:-/usr/x86_64-w64-mingw32/include/ddk}
common="-O2 -Wall -Wextra -Werror -D_AMD64_ -D__USE_MINGW_ANSI_STDIO=0 -isystem $mingw_ddk -I$root/include"
passed=0 failed=0

count() {   # count LABEL LOG: the program's PASS/FAIL lines
  local p f
  p=$(grep -c '^PASS ' "$2")
  f=$(grep -c '^FAIL ' "$2")
  sed "s/^/  $1: /" "$2"
  passed=$((passed + p)) failed=$((failed + f))
}

build_and_run() {   # build_and_run LABEL COMPILE-COMMAND
  local label=$1 compile=$2 exe=$out/test_scope_$1.exe
  if ! eval "$compile -c $root/tests/seh/test_scope_seh.c -o $out/$label.o" >"$out/$label-build.log" 2>&1 ||
     ! "$mingw_cc" "$out/$label.o" -o "$exe" >>"$out/$label-build.log" 2>&1; then
    echo "FAIL  $label: build (log: $out/$label-build.log)"
    sed 's/^/        /' "$out/$label-build.log" | head -20
    failed=$((failed + 1))
    return
  fi
  scripts/wine-run.sh "$out" "$exe" >"$out/$label-run.log"
  local status=$?
  count "$label" "$out/$label-run.log"
  if [ "$status" -ne 0 ] && ! grep -q '^FAIL ' "$out/$label-run.log"; then
    echo "FAIL  $label: exit status $status with no FAIL line (log: $out/wine-debug.log)"
    failed=$((failed + 1))
  fi
}

for tool in "$clang" "$mingw_cc"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing: $tool (scripts/install-deps.sh)"; echo "0 1 0" >"$out/summary"; exit 1; }
done

build_and_run seh "$clang --target=x86_64-w64-windows-gnu -fms-extensions -std=gnu11 -DWDKM_SCOPE_SEH=1 $common"
build_and_run cleanup "$mingw_cc -std=c11 -pedantic-errors -DWDKM_SCOPE_SEH=0 $common"

echo "$passed passed, $failed failed"
echo "$passed $failed 0" >"$out/summary"
[ "$failed" -eq 0 ]
