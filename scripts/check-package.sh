#!/usr/bin/env bash
# check-package.sh [BUILD_DIR] - the CMake package, end to end, as a driver
# project uses it.
#
# In BUILD_DIR (default build/package), each step one counted result:
#   1. configure the kernel build (mingw-w64 toolchain, WDKM_KERNEL=ON,
#      Release) with CMAKE_INSTALL_PREFIX=BUILD_DIR/prefix
#   2. build the library, its checked twin and wdkm_support
#   3. install them into the scratch prefix
#   4. the prefix holds the headers, the libraries, the package config, the
#      build record, WdkmDriver.cmake and the Wine runner
#   5. configure tests/package - out-of-tree drivers made with
#      wdkm_add_driver - as *Debug* against the *Release* package
#   6. the package's WDKM_CHECKED (0) is what the Debug project compiles with
#   7. build its drivers and the runner (links: the library's diagnostics
#      are not asked for)
#   8. the drivers are native PE images importing from ntoskrnl.exe and
#      hal.dll only
#   9. the spin-lock-only driver imports no routine of another lock kind
#      (size and import count printed)
#  10. ctest runs it under Wine through wdkm_add_wine_test
#  11. asking for a version the package is not compatible with fails
#  12. configuring a package user without a Windows toolchain is refused
#      with one readable message naming the toolchain file the package
#      installs and the wdkmutex_DIR to pass (the configure step 5 uses
#      that installed toolchain file, as a project without the source
#      tree does)
#  13. a host unit-test project that add_subdirectory()s the source tree
#      (tests/package/host, docs/host-testing.md) gets none of wdkmutex's
#      own tests in its ctest, and
#  14. builds and passes its own
#  15. a driver project that never calls enable_testing() (the README's
#      four lines) still gets its wdkm_add_wine_test test in ctest, not a
#      CI step that passes with no test (configure only)
#
# One line per step, then "N passed, N failed"; the counts go to
# BUILD_DIR/summary ("passed failed skipped"). Exit status 1 on failure.
# Logs: BUILD_DIR/*.log.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
out=${1:-build/package}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
rm -rf "$out/library" "$out/prefix" "$out/example" "$out/example-too-new" "$out/example-host" \
       "$out/host-consumer" "$out/no-enable-testing" "$out/summary" "$out"/*.log

toolchain=$root/cmake/toolchain-mingw-w64-x86_64.cmake
prefix=$out/prefix
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
objdump=${OBJDUMP:-x86_64-w64-mingw32-objdump}
passed=0 failed=0 stop=0

step() {   # step NAME LOG COMMAND... ; skipped (counted failed) after a failure
  local name=$1 log=$2
  shift 2
  if [ "$stop" -eq 1 ]; then
    echo "FAIL  $name (not run: an earlier step failed)"
    failed=$((failed + 1))
    return 1
  fi
  if "$@" >"$out/$log" 2>&1; then
    echo "PASS  $name"
    passed=$((passed + 1))
    return 0
  fi
  echo "FAIL  $name"
  grep -E 'error|Error|ERROR|missing|not found|FAIL' "$out/$log" | head -n 8 | sed 's/^/        /'
  echo "        (log: $out/$log)"
  failed=$((failed + 1))
  stop=1
  return 1
}

installed_files() {
  local missing=0 file
  for file in include/wdkmutex/wdkmutex.h lib/libwdkmutex.a lib/libwdkmutex_checked.a \
              lib/libwdkm_support.a include/wdkmutex/support/wdkm_service.h \
              lib/cmake/wdkmutex/wdkmutexConfig.cmake \
              lib/cmake/wdkmutex/wdkmutexConfigVersion.cmake \
              lib/cmake/wdkmutex/wdkmutexTargets.cmake \
              lib/cmake/wdkmutex/wdkmutexBuild.cmake \
              lib/cmake/wdkmutex/WdkmDriver.cmake \
              lib/cmake/wdkmutex/toolchain-mingw-w64-x86_64.cmake \
              lib/cmake/wdkmutex/wdkm-wine-run.sh; do
    if [ ! -f "$prefix/$file" ]; then
      echo "missing: $prefix/$file"
      missing=1
    fi
  done
  for header in include/wdkmutex/*.h; do
    [ -f "$prefix/$header" ] || { echo "missing: $prefix/$header"; missing=1; }
  done
  # The port the inline fast paths include, itself (not the source tree's
  # forwarder), inside the package's include folder; and nothing installed
  # beside include/, lib/ and share/ (a top-level port/ in /usr/local
  # belongs to no one).
  file=include/wdkmutex/port/wdkm_port.h
  if [ ! -f "$prefix/$file" ] || ! grep -q "wdk/wdkm_port_wdk.h" "$prefix/$file" ||
     [ ! -f "$prefix/include/wdkmutex/port/wdk/wdkm_port_wdk.h" ]; then
    echo "missing: $prefix/$file (the port itself, and port/wdk/ beside it)"
    missing=1
  fi
  for file in "$prefix"/*; do
    case ${file##*/} in
      include|lib|share) ;;
      *) echo "FAIL: installed outside include/, lib/ and share/: $file"; missing=1 ;;
    esac
  done
  # Nothing from the source or build tree may leak into the exported target.
  if grep -n -e "$root/include" -e "$root/src" -e "$root/port" "$prefix"/lib/cmake/wdkmutex/*.cmake; then
    echo "FAIL: the installed package refers to the source tree"
    missing=1
  fi
  return "$missing"
}

# The names a PE image imports, one a line (GNU objdump -p format).
imported_names() {
  "$objdump" -p "$1" | sed -n 's/^\t[0-9a-fA-F]*\t *[0-9]* *\([A-Za-z0-9_@]*\)$/\1/p'
}

driver_imports() {
  local name sys dlls
  for name in example_driver spin_driver; do
    sys=$out/example/$name.sys
    [ -f "$sys" ] || { echo "missing: $sys"; return 1; }
    "$objdump" -p "$sys" >"$out/$name-objdump.txt" || return 1
    grep -Eq '^Subsystem[[:space:]]+0*1[[:space:]]' "$out/$name-objdump.txt" ||
      { echo "FAIL: $name: subsystem is not native"; grep Subsystem "$out/$name-objdump.txt"; return 1; }
    dlls=$(sed -n 's/^[[:space:]]*DLL Name: //p' "$out/$name-objdump.txt" | tr 'A-Z' 'a-z' | sort -u | tr '\n' ' ')
    echo "$name imports from: $dlls"
    for dll in $dlls; do
      case $dll in
        ntoskrnl.exe|hal.dll) ;;
        *) echo "FAIL: $name imports from $dll"; return 1 ;;
      esac
    done
    sed -n 's/^[[:space:]]*DLL Name: //p' "$out/$name-objdump.txt" | grep -qi ntoskrnl.exe ||
      { echo "FAIL: $name: no import from ntoskrnl.exe"; return 1; }
  done
}

# A driver that uses only a spin lock pays for no other kind: none of the
# routines of KMUTEX, FAST_MUTEX, guarded mutexes, ERESOURCE, push locks,
# queued spin locks or regions is imported. (The port's table of optional
# routines, looked up by name at the first create, names them all: names,
# not imports; a kernel without one still loads the driver.)
spin_only() {
  local sys=$out/example/spin_driver.sys names bad
  names=$(imported_names "$sys" | sort -u)
  printf '%s\n' "$names" >"$out/spin_driver-imports.txt"
  # Code and data, not the file: the Debug project's image carries its debug info.
  echo "spin_driver.sys: $("${objdump%objdump}size" "$sys" | awk 'NR == 2 { print $1 + $2 }') bytes of code and data, $(printf '%s\n' "$names" | grep -c .) imports"
  bad=$(printf '%s\n' "$names" | grep -E \
    '^(KeWaitForSingleObject|KeWaitForMultipleObjects|KeInitializeMutex|KeReleaseMutex|KeReadStateMutex|ExAcquireFastMutex|ExReleaseFastMutex|ExTryToAcquireFastMutex|ExAcquireFastMutexUnsafe|ExReleaseFastMutexUnsafe|KeAcquireGuardedMutex|KeReleaseGuardedMutex|KeInitializeGuardedMutex|ExInitializeResourceLite|ExDeleteResourceLite|ExAcquireResource.*|ExReleaseResource.*|ExIsResourceAcquired.*|ExGetSharedWaiterCount|ExfAcquirePushLock.*|ExfReleasePushLock.*|KeAcquireInStackQueuedSpinLock.*|KeReleaseInStackQueuedSpinLock.*|KeEnterCriticalRegion|KeLeaveCriticalRegion|KeEnterGuardedRegion|KeLeaveGuardedRegion)$')
  if [ -n "$bad" ]; then
    echo "FAIL: spin_driver.sys imports routines of other lock kinds:"
    printf '  %s\n' $bad
    return 1
  fi
  echo "no routine of another lock kind"
}

# The Debug project compiles with the package's recorded WDKM_CHECKED=0.
recorded_checked() {
  grep -h 'set(wdkmutex_CHECKED' "$prefix/lib/cmake/wdkmutex/wdkmutexBuild.cmake"
  grep -rh -- '-DWDKM_CHECKED=' "$out/example/CMakeFiles/spin_driver.dir/flags.make" |
    tee /dev/stderr | grep -q -- '-DWDKM_CHECKED=0' ||
    { echo "FAIL: the Debug project does not compile with the package's WDKM_CHECKED=0"; return 1; }
}

under_wine() {
  ctest --test-dir "$out/example" --output-on-failure --no-tests=error -R spin_driver_under_wine
}

too_new_rejected() {
  if cmake -S tests/package -B "$out/example-too-new" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
       -Dwdkmutex_DIR="$prefix/lib/cmake/wdkmutex" -DEXAMPLE_WDKMUTEX_VERSION=99.0; then
    echo "FAIL: find_package(wdkmutex 99.0) succeeded"
    return 1
  fi
  echo "find_package(wdkmutex 99.0) failed, as it must"
}

# A driver project configured for the build machine instead of Windows: the
# package refuses, in one message a newcomer can act on (CMake wraps it,
# so whitespace is folded before looking).
host_refused() {
  local text
  if cmake -S tests/package -B "$out/example-host" -Dwdkmutex_DIR="$prefix/lib/cmake/wdkmutex" \
       >"$out/example-host.txt" 2>&1; then
    echo "FAIL: find_package(wdkmutex) succeeded for the build machine"
    return 1
  fi
  cat "$out/example-host.txt"
  text=$(tr -s ' \n' '  ' <"$out/example-host.txt")
  case $text in
    *"configure your driver project"*) ;;
    *) echo "FAIL: the refusal does not read as one sentence"; return 1 ;;
  esac
  case $text in
    *"-DCMAKE_TOOLCHAIN_FILE=$prefix/lib/cmake/wdkmutex/toolchain-mingw-w64-x86_64.cmake"*) ;;
    *) echo "FAIL: the refusal does not name the installed toolchain file"; return 1 ;;
  esac
  case $text in
    *"-Dwdkmutex_DIR=$prefix/lib/cmake/wdkmutex"*) ;;
    *) echo "FAIL: the refusal does not name wdkmutex_DIR"; return 1 ;;
  esac
}

# docs/host-testing.md's add_subdirectory() project: the user's ctest
# holds the user's test, not wdkmutex's own suites and examples.
host_consumer_tests() {
  local listed
  listed=$(ctest --test-dir "$out/host-consumer" -N | sed -n 's/^ *Test *#[0-9]*: //p')
  printf 'tests: %s\n' "$listed"
  [ "$listed" = "my_driver_logic" ] ||
    { echo "FAIL: the host project's ctest holds other tests than its own"; return 1; }
}

# The README's CI snippet as a whole project: no enable_testing() of its own.
wine_test_without_enable_testing() {
  local dir=$out/no-enable-testing listed
  mkdir -p "$dir/src"
  cat >"$dir/src/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.20)
project(no_enable_testing LANGUAGES C)
find_package(wdkmutex 0.1 REQUIRED)
wdkm_add_driver(spin_driver SOURCES $root/tests/package/spin_driver.c)
wdkm_add_usermode_exe(spin_runner SOURCES $root/tests/package/spin_runner.c)
wdkm_add_wine_test(spin_driver_under_wine RUNNER spin_runner DRIVERS spin_driver)
EOF
  cmake -S "$dir/src" -B "$dir/build" \
        -DCMAKE_TOOLCHAIN_FILE="$prefix/lib/cmake/wdkmutex/toolchain-mingw-w64-x86_64.cmake" \
        -Dwdkmutex_DIR="$prefix/lib/cmake/wdkmutex" || return 1
  listed=$(ctest --test-dir "$dir/build" -N | sed -n 's/^ *Test *#[0-9]*: //p')
  printf 'tests: %s\n' "$listed"
  [ "$listed" = "spin_driver_under_wine" ] ||
    { echo "FAIL: without enable_testing() ctest finds no Wine test (and passes)"; return 1; }
}

host_consumer_runs() {
  cmake --build "$out/host-consumer" -j "$jobs" &&
    ctest --test-dir "$out/host-consumer" --output-on-failure
}

# packaging.md's commands for a driver without CMake, run as the page
# writes them (so that the page cannot drift from what works): the
# single-file build of section 1 (amalgamate, compile, link), then
# "Without CMake"'s client built from support/ and the pair run under
# Wine by scripts/wine-run.sh. In a scratch folder that links the tree's
# scripts/, include/, src/, port/, cmake/ and support/, with
# tests/package's spin driver as the page's driver.c and its runner as
# client.c (the runner loads spin_driver.sys, hence the copy).
doc_md_command() {   # doc_md_command MARKER: the packaging.md command holding MARKER
  python3 - "$root/docs/packaging.md" "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
marker = sys.argv[2]
for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
    if marker in block:
        print(block, end="")
        sys.exit(0)
prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
for span in re.findall(r"`([^`]+)`", prose):
    if marker in span:
        print(" ".join(span.split()))
        sys.exit(0)
sys.exit("packaging.md has no command holding: " + marker)
PY
}

doc_commands_without_cmake() {
  local scratch=$out/doc-commands dir single client
  rm -rf "$scratch" && mkdir -p "$scratch" || return 1
  for dir in scripts include src port cmake support; do
    ln -s "$root/$dir" "$scratch/$dir" || return 1
  done
  cp tests/package/spin_driver.c "$scratch/driver.c" &&
    cp tests/package/spin_runner.c "$scratch/client.c" &&
    cp tests/package/spin_ioctl.h "$scratch/" || return 1
  single=$(doc_md_command "amalgamate.py --out dist") || return 1
  client=$(doc_md_command "-Isupport client.c") || return 1
  printf '%s\n' "$single" "$client"
  (cd "$scratch" && bash -e -c "$single" && bash -e -c "$client") || return 1
  cp "$scratch/my_driver.sys" "$scratch/spin_driver.sys" &&
    WDKM_WINE_TIMEOUT=240 scripts/wine-run.sh "$scratch/wine" "$scratch/client.exe"
}

step "configure the kernel build (Release, prefix $prefix)" configure-library.log \
  cmake -S . -B "$out/library" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DWDKM_KERNEL=ON \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix"
step "build the library, its checked twin and wdkm_support" build-library.log \
  cmake --build "$out/library" --target wdkmutex wdkmutex_checked wdkm_support -j "$jobs"
step "install into the scratch prefix" install.log \
  cmake --install "$out/library"
step "installed: headers, libraries, package config, driver functions, Wine runner" \
  installed-files.log installed_files
step "configure tests/package as Debug against the Release package (installed toolchain file)" \
  configure-example.log \
  cmake -S tests/package -B "$out/example" \
        -DCMAKE_TOOLCHAIN_FILE="$prefix/lib/cmake/wdkmutex/toolchain-mingw-w64-x86_64.cmake" \
        -DCMAKE_BUILD_TYPE=Debug -Dwdkmutex_DIR="$prefix/lib/cmake/wdkmutex"
step "the Debug project compiles with the package's WDKM_CHECKED=0" checked.log recorded_checked
step "build the drivers (wdkm_add_driver) and the runner" build-example.log \
  cmake --build "$out/example" -j "$jobs"
step "the drivers are native and import only ntoskrnl.exe and hal.dll" imports.log driver_imports
step "the spin-lock-only driver imports no other lock kind's routines" spin-only.log spin_only
grep -h '^spin_driver.sys:' "$out/spin-only.log" 2>/dev/null | sed 's/^/        /'
step "wdkm_add_wine_test runs the spin driver under Wine (ctest)" wine.log under_wine
step "find_package(wdkmutex 99.0) is refused" version.log too_new_rejected
step "without a Windows toolchain: refused, naming the installed toolchain file" host-refused.log \
  host_refused
step "configure a host project that add_subdirectory()s the tree" configure-host-consumer.log \
  cmake -S tests/package/host -B "$out/host-consumer" -DWDKMUTEX_DIR="$root"
step "the host project's ctest holds its own test only" host-consumer-tests.log host_consumer_tests
step "the host project builds and its test passes" host-consumer-run.log host_consumer_runs
step "wdkm_add_wine_test without enable_testing(): ctest still has the test" \
  no-enable-testing.log wine_test_without_enable_testing
step "packaging.md's single-file build and by-hand Wine run, as written" doc-commands.log \
  doc_commands_without_cmake

echo "$passed $failed 0" >"$out/summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
