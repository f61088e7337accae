#!/usr/bin/env bash
# check-wdk-headers.sh WDK_DIR - the single-file distribution compiled as
# Visual Studio would build it: clang-cl in MSVC mode, /W4, against
# Microsoft's own headers. Not part of `make check`: the headers are not
# Debian packages and may not be committed. Lay them out once, by hand:
#
#   WDK_DIR/km      the WDK's Include/<version>/km
#   WDK_DIR/shared  the SDK's Include/<version>/shared
#   WDK_DIR/ucrt    the SDK's Include/<version>/ucrt
#   WDK_DIR/vc      MSVC's include (vcruntime.h, excpt.h, ...; no intrin.h:
#                   clang's own is used)
#
# On a case-sensitive file system, add links for the WDK's mixed-case
# includes (e.g. shared/DriverSpecs.h -> driverspecs.h).
#
# Compiles the amalgamation release and checked, for x64 and ARM64, and the
# header as C++; any warning fails. Prints one line per cell and
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
wdk=${1:?usage: $0 WDK_DIR}
clang_cl=${CLANG_CL:-$(command -v clang-cl || echo /usr/lib/llvm-14/bin/clang-cl)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 scripts/amalgamate.py --out "$out" >/dev/null || { echo "amalgamate failed"; exit 1; }
printf '#include <ntddk.h>\n#include <wdkmutex/wdkmutex.h>\n' >"$out/header.cpp"
inc=(-imsvc "$wdk/vc" -imsvc "$wdk/km" -imsvc "$wdk/shared" -imsvc "$wdk/ucrt" /I "$out")
common=(/nologo /c /W4 /WX /D_KERNEL_MODE /DNTDDI_VERSION=0x0A00000C /D_WIN64 "${inc[@]}" /Zs)
passed=0 failed=0
cell() {   # cell NAME ARGS...
  local name=$1
  shift
  if "$clang_cl" "${common[@]}" "$@" >"$out/log" 2>&1; then
    echo "PASS  $name"
    passed=$((passed + 1))
  else
    echo "FAIL  $name"
    grep -E 'warning|error' "$out/log" | head -n 10 | sed 's/^/        /'
    failed=$((failed + 1))
  fi
}
x64=(/D_AMD64_ /DAMD64)
arm64=(--target=aarch64-pc-windows-msvc /D_ARM64_)
cell "x64   release wdkmutex.c" "${x64[@]}" "$out/wdkmutex.c"
cell "x64   checked wdkmutex.c" "${x64[@]}" /DWDKM_CHECKED=1 /DDBG=1 "$out/wdkmutex.c"
cell "arm64 release wdkmutex.c" "${arm64[@]}" "$out/wdkmutex.c"
cell "arm64 checked wdkmutex.c" "${arm64[@]}" /DWDKM_CHECKED=1 /DDBG=1 "$out/wdkmutex.c"
cell "x64   C++     wdkmutex.h" "${x64[@]}" /TP "$out/header.cpp"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
