#!/usr/bin/env bash
# check-package.sh [BUILD_DIR] - the CMake package, end to end.
#
# In BUILD_DIR (default build/package), each step one counted result:
#   1. configure the kernel build (mingw-w64 toolchain, WDKM_KERNEL=ON) with
#      CMAKE_INSTALL_PREFIX=BUILD_DIR/prefix
#   2. build the library (target wdkmutex)
#   3. install it into the scratch prefix
#   4. the prefix holds the headers, libwdkmutex.a and the package config
#   5. configure tests/package, an out-of-tree driver project, against the
#      installed package only (find_package(wdkmutex 0.1), wdkmutex_DIR)
#   6. build its driver, example_driver.sys
#   7. the driver is a native-subsystem PE importing from ntoskrnl.exe and
#      hal.dll only
#   8. asking for a version the package is not compatible with fails
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
rm -rf "$out/library" "$out/prefix" "$out/example" "$out/example-too-new" "$out/summary" "$out"/*.log

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
  for file in include/wdkmutex/wdkmutex.h lib/libwdkmutex.a \
              lib/cmake/wdkmutex/wdkmutexConfig.cmake \
              lib/cmake/wdkmutex/wdkmutexConfigVersion.cmake \
              lib/cmake/wdkmutex/wdkmutexTargets.cmake; do
    if [ ! -f "$prefix/$file" ]; then
      echo "missing: $prefix/$file"
      missing=1
    fi
  done
  for header in include/wdkmutex/*.h; do
    [ -f "$prefix/$header" ] || { echo "missing: $prefix/$header"; missing=1; }
  done
  # Nothing from the source or build tree may leak into the exported target.
  if grep -n -e "$root/include" -e "$root/src" -e "$root/port" "$prefix"/lib/cmake/wdkmutex/*.cmake; then
    echo "FAIL: the installed package refers to the source tree"
    missing=1
  fi
  return "$missing"
}

driver_imports() {
  local sys=$out/example/example_driver.sys dlls
  [ -f "$sys" ] || { echo "missing: $sys"; return 1; }
  "$objdump" -p "$sys" >"$out/example-objdump.txt" || return 1
  grep -Eq '^Subsystem[[:space:]]+0*1[[:space:]]' "$out/example-objdump.txt" ||
    { echo "FAIL: subsystem is not native"; grep Subsystem "$out/example-objdump.txt"; return 1; }
  dlls=$(sed -n 's/^[[:space:]]*DLL Name: //p' "$out/example-objdump.txt" | tr 'A-Z' 'a-z' | sort -u | tr '\n' ' ')
  echo "imports from: $dlls"
  for dll in $dlls; do
    case $dll in
      ntoskrnl.exe|hal.dll) ;;
      *) echo "FAIL: imports from $dll"; return 1 ;;
    esac
  done
  sed -n 's/^[[:space:]]*DLL Name: //p' "$out/example-objdump.txt" | grep -qi ntoskrnl.exe ||
    { echo "FAIL: no import from ntoskrnl.exe"; return 1; }
}

too_new_rejected() {
  if cmake -S tests/package -B "$out/example-too-new" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
       -Dwdkmutex_DIR="$prefix/lib/cmake/wdkmutex" -DEXAMPLE_WDKMUTEX_VERSION=99.0; then
    echo "FAIL: find_package(wdkmutex 99.0) succeeded"
    return 1
  fi
  echo "find_package(wdkmutex 99.0) failed, as it must"
}

step "configure the kernel build (prefix $prefix)" configure-library.log \
  cmake -S . -B "$out/library" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DWDKM_KERNEL=ON \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix"
step "build the library" build-library.log \
  cmake --build "$out/library" --target wdkmutex -j "$jobs"
step "install into the scratch prefix" install.log \
  cmake --install "$out/library"
step "installed: headers, libwdkmutex.a, package config" installed-files.log installed_files
step "configure tests/package against the installed package" configure-example.log \
  cmake -S tests/package -B "$out/example" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
        -DCMAKE_BUILD_TYPE=Release -Dwdkmutex_DIR="$prefix/lib/cmake/wdkmutex"
step "build the example driver (example_driver.sys)" build-example.log \
  cmake --build "$out/example" -j "$jobs"
step "the driver is native and imports only ntoskrnl.exe and hal.dll" imports.log driver_imports
step "find_package(wdkmutex 99.0) is refused" version.log too_new_rejected

echo "$passed $failed 0" >"$out/summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
