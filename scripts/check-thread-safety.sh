#!/usr/bin/env bash
# check-thread-safety.sh [BUILD_DIR] - clang's thread-safety analysis over
# the code that uses wdkmutex, and proof that it catches what it should.
#
# The public headers mark every lock type as a capability and every
# acquire, release and lock precondition with clang's attributes
# (include/wdkmutex/wdkm_annotations.h), so `-Wthread-safety -Werror` turns
# a lock held on one path and not another, a release of a lock not held, or
# a call needing a lock without it, into a compile error. Cells:
#
#   twins    each public header: every SAL lock annotation has its clang
#            twin and back (tests/thread-safety/sal_twins.py)
#   demo     examples/demo/demo_driver.c, release and checked build
#            (WDKM_CHECKED=1), as examples/demo/CMakeLists.txt builds both
#   example  examples/eventnotify/eventnotify_driver.c, examples/pollread's
#            and examples/threadq's
#            core and driver, the same two ways
#   docs     every C example of README.md and docs/, in the translation
#            units scripts/check-examples.sh makes (its own extractor is
#            run): driver units against the mingw-w64 DDK, host programs
#            against the host emulation (compiled, not run)
#   driver   each kernel source of the test driver (tests/driver/*.c and
#            tests/common/*.c),
#            release and checked build (the Wine test driver links the
#            checked library, its amalgamation build the release one)
#   ok       tests/thread-safety/ok_patterns.c, every supported pattern:
#            as C, as C in a checked build, as C++17, and against the host
#            emulation; it must compile
#   bad      each tests/thread-safety/bad_*.c must fail to compile, with
#            exactly the errors its "/* expect: REGEX */" comments list
#            (one error per comment, each matching its regular expression),
#            all of them -Wthread-safety ones; and it must compile cleanly
#            without -Wthread-safety (so the analysis is the only reason)
#
# The compiler is clang --target=x86_64-w64-windows-gnu against mingw-w64's
# DDK with the kernel build's flags (-std=c11 -pedantic-errors -Wall -Wextra
# -Werror ..., as scripts/check-portability.sh), plus -Wthread-safety.
#
# One line per cell, failures followed by the first messages (full logs in
# BUILD_DIR/logs), then "N passed, N failed"; the counts go to
# BUILD_DIR/summary ("passed failed skipped", BUILD_DIR defaults to
# build/thread-safety) for scripts/check.sh. Exit status 1 on any failure.
#
# Environment: CLANG (default clang), MINGW_DDK (default
# /usr/x86_64-w64-mingw32/include/ddk), JOBS (default nproc).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
out=${1:-build/thread-safety}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
rm -rf "$out/cells" "$out/logs" "$out/tu" "$out/summary"
mkdir -p "$out/cells" "$out/logs" "$out/tu"

clang=${CLANG:-clang}
mingw_ddk=${MINGW_DDK:-/usr/x86_64-w64-mingw32/include/ddk}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# --- Compilers and flags --------------------------------------------------------

target="--target=x86_64-w64-windows-gnu"
analysis="-Wthread-safety"
# The checked build (include/wdkmutex/wdkm_config.h): the typed macros add
# diagnostics hooks there, which must not hide an acquire from the analysis.
checked="-DWDKM_CHECKED=1"
# The kernel build's settings (cmake/WdkmDriver.cmake), warnings as errors;
# mingw-w64's wdm.h redefines two intrinsics clang already has (see
# docs/checks.md, mingw-w64 notes).
kernel_flags="-O2 -ffreestanding -fno-stack-protector -mno-red-zone -fno-strict-aliasing \
-fno-common -Wall -Wextra -Werror -pedantic-errors \
-D_AMD64_ -D_KERNEL_MODE=1 -DNTDDI_VERSION=0x0A000000 -D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 \
-D__USE_MINGW_ANSI_STDIO=0 \
-D__INTRINSIC_DEFINED_InterlockedBitTestAndSet -D__INTRINSIC_DEFINED_InterlockedBitTestAndReset \
-isystem $mingw_ddk -I$root/include"
kernel_c="$clang $target -std=c11 $kernel_flags"
kernel_cxx="${clang}++ $target -x c++ -std=c++17 $kernel_flags"
host_c="$clang -std=c11 -Wall -Wextra -Werror -pedantic-errors -pthread \
-include $root/tests/portability/examples/host_prelude.h -I$root/port/host/include -I$root/include"
# The examples' own relaxations (scripts/check-examples.sh): they are
# fragments of drivers.
example_relax="-Wno-unused-parameter -Wno-unused-function -Wno-unused-variable \
-Wno-unused-but-set-variable -Wno-multichar"

# --- Cells ----------------------------------------------------------------------
# Each cell is a small script cells/NNNN.sh; its label is cells/NNNN.label.

count=0
add_cell() {   # add_cell LABEL COMMAND-STRING
  local id
  id=$(printf '%04d' "$count")
  count=$((count + 1))
  printf '%s\n' "$1" >"$out/cells/$id.label"
  printf 'cd %q || exit 1\n%s\n' "$root" "$2" >"$out/cells/$id.sh"
}

have() { command -v "${1%% *}" >/dev/null 2>&1; }

tools_ok=1
for tool in "$clang" "${clang}++" python3; do
  have "$tool" || { add_cell "tools     $tool" "echo 'missing: $tool (scripts/install-deps.sh)'; exit 1"; tools_ok=0; }
done
[ -f "$mingw_ddk/wdm.h" ] ||
  { add_cell "tools     mingw-w64 DDK" "echo 'missing: $mingw_ddk/wdm.h (scripts/install-deps.sh)'; exit 1"; tools_ok=0; }

# twins: SAL and clang state the same lock contracts.
for header in include/wdkmutex/*.h; do
  add_cell "$(printf 'twins     %s' "$header")" "python3 tests/thread-safety/sal_twins.py $header"
done

if [ "$tools_ok" = 1 ]; then
  # demo: the example driver a user copies from, in both builds.
  add_cell "demo      examples/demo/demo_driver.c" \
    "$kernel_c $analysis -fsyntax-only examples/demo/demo_driver.c"
  add_cell "demo      examples/demo/demo_driver.c (checked build)" \
    "$kernel_c $checked $analysis -fsyntax-only examples/demo/demo_driver.c"
  # eventnotify: the cancel-safe queue example, no analysis switched off.
  add_cell "example   examples/eventnotify/eventnotify_driver.c" \
    "$kernel_c $analysis -fsyntax-only examples/eventnotify/eventnotify_driver.c"
  add_cell "example   examples/eventnotify/eventnotify_driver.c (checked build)" \
    "$kernel_c $checked $analysis -fsyntax-only examples/eventnotify/eventnotify_driver.c"
  # pollread: registry locks, a queued spin lock and an ERESOURCE, no
  # analysis switched off.
  # threadq: a hand-written cancel routine, nested spin locks (device ->
  # handle), per-handle registry locks, no analysis switched off.
  # ticker: nested spin locks in a DPC (setting -> counters), an ERESOURCE
  # tried shared and waited for exclusive, no analysis switched off.
  for file in examples/pollread/pollread_core.c examples/pollread/pollread_driver.c \
              examples/threadq/threadq_core.c examples/threadq/threadq_driver.c \
              examples/ticker/ticker_core.c examples/ticker/ticker_driver.c; do
    add_cell "example   $file" "$kernel_c $analysis -fsyntax-only $file"
    add_cell "example   $file (checked build)" "$kernel_c $checked $analysis -fsyntax-only $file"
  done

  # docs: check-examples.sh's extractor, taken from that script so the two
  # cannot drift apart; it writes one .c per unit and lists them.
  awk '/<<.PYTHON.$/ { on = 1; next } /^PYTHON$/ { on = 0 } on' scripts/check-examples.sh \
    >"$out/extract_examples.py"
  mapfile -t pages < <(ls README.md docs/*.md docs/**/*.md 2>/dev/null | sort -u)
  if [ -s "$out/extract_examples.py" ] &&
     python3 "$out/extract_examples.py" "$out/tu" "${pages[@]}" >"$out/units.txt" 2>"$out/logs/extract.log" &&
     [ -s "$out/units.txt" ]; then
    while IFS=$'\t' read -r kind tu label; do
      if [ "$kind" = kernel ]; then
        add_cell "$(printf 'docs      %s' "$label")" \
          "$kernel_c $example_relax $analysis -fsyntax-only $tu"
      elif [ "$kind" = hostfiles ]; then
        # A page's program as separate files (a directory): each .c its
        # own translation unit, its headers beside it.
        add_cell "$(printf 'docs      %s' "$label")" \
          "for unit in $tu/*.c; do $host_c $example_relax '-D_Must_inspect_result_=__attribute__((__warn_unused_result__))' \
$analysis -I$tu -fsyntax-only \$unit || exit 1; done"
      else
        add_cell "$(printf 'docs      %s' "$label")" \
          "$host_c $example_relax '-D_Must_inspect_result_=__attribute__((__warn_unused_result__))' \
$analysis -fsyntax-only $tu"
      fi
    done <"$out/units.txt"
  else
    add_cell "docs      extracting the examples (scripts/check-examples.sh's extractor)" \
      "cat $out/logs/extract.log; echo 'FAIL: no example units extracted'; exit 1"
  fi

  # driver: the test driver's kernel sources, as its CMake target builds them
  # (with the per-kind adapter it shares with the unit tests, tests/common).
  for source in tests/driver/*.c tests/common/*.c; do
    add_cell "$(printf 'driver    %s' "$source")" \
      "$kernel_c -I$root/tests/driver -I$root/tests/common -DWDKM_TEST_WITH_LIBRARY=1 $analysis -fsyntax-only $source"
    add_cell "$(printf 'driver    %s (checked build)' "$source")" \
      "$kernel_c $checked -I$root/tests/driver -I$root/tests/common -DWDKM_TEST_WITH_LIBRARY=1 $analysis -fsyntax-only $source"
  done

  # ok: every supported pattern compiles, in every configuration.
  ok=tests/thread-safety/ok_patterns.c
  add_cell "ok        C11    mingw  $ok" "$kernel_c $analysis -fsyntax-only $ok"
  add_cell "ok        C11    mingw  $ok (checked build)" "$kernel_c $checked $analysis -fsyntax-only $ok"
  add_cell "ok        C++17  mingw  $ok" "$kernel_cxx $analysis -fsyntax-only $ok"
  add_cell "ok        C11    host   $ok" "$host_c $analysis -fsyntax-only $ok"

  # bad: each must fail, for the reasons it lists and no other.
  for source in tests/thread-safety/bad_*.c; do
    [ -f "$source" ] || continue
    add_cell "$(printf 'bad       %s' "$source")" \
      "python3 tests/thread-safety/expect_errors.py --analysis=$analysis $source $kernel_c"
  done
fi

# --- Run them in parallel, report in order --------------------------------------

run_one() {   # run_one ID
  bash "$out/cells/$1.sh" >"$out/logs/$1.log" 2>&1
  echo $? >"$out/cells/$1.rc"
}
export -f run_one
export out
ls "$out/cells" | sed -n 's/\.sh$//p' | xargs -P "$jobs" -I{} bash -c 'run_one {}'

passed=0 failed=0
for label_file in "$out"/cells/*.label; do
  id=$(basename "$label_file" .label)
  label=$(cat "$label_file")
  rc=$(cat "$out/cells/$id.rc" 2>/dev/null || echo 1)
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    echo "PASS  $label"
  else
    failed=$((failed + 1))
    echo "FAIL  $label"
    grep -E 'error:|missing:|FAIL|^    ' "$out/logs/$id.log" | head -n 8 | sed 's/^/        /'
    echo "        (log: $out/logs/$id.log)"
  fi
done

echo "$passed $failed 0" >"$out/summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
