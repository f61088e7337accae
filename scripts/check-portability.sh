#!/usr/bin/env bash
# check-portability.sh [BUILD_DIR] - the portability matrix.
#
# Compiles, without linking (headers: syntax only), as strict C11
# (-std=c11 -pedantic-errors -Wall -Wextra -Werror -O2, and the kernel
# build's other flags):
#
#   lib        every library source (src/*.c, port/wdk/*.c)
#   header     every public header (include/wdkmutex/*.h) alone in a
#              translation unit, included twice (self-contained, guarded)
#   usage      tests/portability/api_usage.c: every public macro expanded
#   amalg      the single-file distribution (scripts/amalgamate.py)
#
# with gcc (x86_64-w64-mingw32-gcc) and clang (--target=x86_64-w64-mingw32),
# each against mingw-w64's DDK headers and against Wine's (libwine-dev,
# through the shim in tests/portability/wine-ddk: see docs/checks.md);
# and the public headers, api_usage.c and the amalgamated header as C++17
# (-pedantic-errors) with x86_64-w64-mingw32-g++ and clang++ against the
# mingw-w64 DDK. Then two checks of GNU extensions:
#
#   gnu-ext    each library file: GNU extensions only behind a __GNUC__ /
#              __clang__ check, with a fallback (tests/portability/gnu_extensions.py)
#   fallback   each library source compiled with __GNUC__ undefined (host
#              gcc, host emulation headers): the fallback branches compile
#
# One line per cell, failures followed by the compiler's first messages
# (full logs in BUILD_DIR/logs), then "N passed, N failed". The counts go to
# BUILD_DIR/summary ("passed failed skipped") for scripts/check.sh. Exit
# status 1 if any cell failed.
#
# The mingw-w64 cells start from a precompiled <ntddk.h> (built first, in
# BUILD_DIR/pch): that is what keeps the matrix at seconds. Takes ~7 s on two
# idle cores.
#
# Environment: MINGW_DDK (default /usr/x86_64-w64-mingw32/include/ddk),
# WINE_INCLUDE (default /usr/include/wine/wine/windows), JOBS (default nproc).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
out=${1:-build/portability}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
rm -rf "$out/cells" "$out/logs" "$out/tu" "$out/pch" "$out/summary"
mkdir -p "$out/cells" "$out/logs" "$out/tu"

mingw_ddk=${MINGW_DDK:-/usr/x86_64-w64-mingw32/include/ddk}
wine_inc=${WINE_INCLUDE:-/usr/include/wine/wine/windows}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# --- Compilers, DDKs and flags ------------------------------------------------

declare -A cc=(
  [gcc]="x86_64-w64-mingw32-gcc"
  [clang]="clang --target=x86_64-w64-mingw32"
  [g++]="x86_64-w64-mingw32-g++"
  [clang++]="clang++ --target=x86_64-w64-mingw32"
)
# The kernel build's settings (cmake/WdkmDriver.cmake), warnings as errors.
kernel_flags="-O2 -ffreestanding -fno-stack-protector -mno-red-zone -fno-strict-aliasing \
-fno-common -Wall -Wextra -Werror -pedantic-errors \
-D_AMD64_ -D_KERNEL_MODE=1 -DNTDDI_VERSION=0x0A000000 -D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 \
-D__USE_MINGW_ANSI_STDIO=0"
c_flags="-std=c11 $kernel_flags"
cxx_flags="-x c++ -std=c++17 $kernel_flags"
declare -A ddk_flags=(
  [mingw]="-isystem $mingw_ddk"
  # The shim stands first: it includes Wine's <ddk/...> headers itself.
  [wine]="-I$root/tests/portability/wine-ddk -isystem $wine_inc/ddk -isystem $wine_inc"
)
# mingw-w64's wdm.h redefines InterlockedBitTestAndSet/Reset after <intrin.h>
# (clang: two definitions; C++: conflicting linkage). The build keeps wdm.h's.
intrin_fix="-D__INTRINSIC_DEFINED_InterlockedBitTestAndSet -D__INTRINSIC_DEFINED_InterlockedBitTestAndReset"
lib_includes="-I$root/include -I$root/port -I$root/src"

# --- Cells --------------------------------------------------------------------
# Each cell is a small script cells/NNNN.sh; its label is cells/NNNN.label.

count=0
add_cell() {   # add_cell LABEL COMMAND-STRING
  local id
  id=$(printf '%04d' "$count")
  count=$((count + 1))
  printf '%s\n' "$1" >"$out/cells/$id.label"
  printf 'cd %q || exit 1\n%s\n' "$root" "$2" >"$out/cells/$id.sh"
}

missing_tool() {   # a cell that fails because a tool is missing
  add_cell "$1" "echo 'missing: $2'; exit 1"
}

have() { command -v "${1%% *}" >/dev/null 2>&1; }

compiler_ok() {    # compiler_ok NAME DDK -> 0 if the tools for that cell exist
  have "${cc[$1]}" || return 1
  case $2 in
    mingw) [ -f "$mingw_ddk/wdm.h" ] ;;
    wine) [ -f "$wine_inc/ddk/wdm.h" ] ;;
  esac
}

# mingw-w64's DDK headers are large (most of each cell's time is parsing
# them): each mingw cell starts from <ntddk.h> precompiled once per compiler
# and language. The Wine cells (no precompiled header) are what prove that
# each header and source includes what it needs itself. Without a usable
# precompiled header the cells run without one: slower, same result.
declare -A pch_flags=()
build_pch() {   # build_pch NAME FLAGS LANGUAGE
  local name=$1 flags=$2 language=$3 dir=$out/pch/$1 extra=""
  have "${cc[$name]}" && [ -f "$mingw_ddk/wdm.h" ] || return 0
  mkdir -p "$dir"
  printf '/* precompiled for the mingw-w64 DDK cells */\n#include <ntddk.h>\n' >"$dir/wdkm_ddk.h"
  [ "$name" != gcc ] && extra=$intrin_fix
  case $name in
    gcc|g++)
      ${cc[$name]} ${flags/-x c++/} $extra ${ddk_flags[mingw]} -x "$language" "$dir/wdkm_ddk.h" \
        -o "$dir/wdkm_ddk.h.gch" >"$dir/build.log" 2>&1 ;;
    clang|clang++)
      ${cc[$name]} ${flags/-x c++/} $extra ${ddk_flags[mingw]} -x "$language" "$dir/wdkm_ddk.h" \
        -o "$dir/wdkm_ddk.h.pch" >"$dir/build.log" 2>&1 ;;
  esac
  return 0
}
build_pch gcc "$c_flags" c-header &
build_pch clang "$c_flags" c-header &
build_pch g++ "$cxx_flags" c++-header &
build_pch clang++ "$cxx_flags" c++-header &
wait
for name in gcc g++; do
  [ -f "$out/pch/$name/wdkm_ddk.h.gch" ] && pch_flags[$name]="-include $out/pch/$name/wdkm_ddk.h"
done
for name in clang clang++; do
  [ -f "$out/pch/$name/wdkm_ddk.h.pch" ] && pch_flags[$name]="-include-pch $out/pch/$name/wdkm_ddk.h.pch"
done

compile_cell() {   # compile_cell LABEL COMPILER DDK FLAGS SOURCE [OUTPUT-FLAGS]
  local label=$1 name=$2 ddk=$3 flags=$4 source=$5 output=${6:--c -o /dev/null} extra=""
  if ! compiler_ok "$name" "$ddk"; then
    missing_tool "$label" "${cc[$name]} or the $ddk DDK headers (scripts/install-deps.sh)"
    return
  fi
  case "$name/$ddk" in
    clang/mingw|g++/mingw|clang++/mingw) extra=$intrin_fix ;;
  esac
  [ "$ddk" = mingw ] && extra="$extra ${pch_flags[$name]:-}"
  add_cell "$label" "${cc[$name]} $flags $extra ${ddk_flags[$ddk]} $lib_includes $output $source"
}

mapfile -t lib_sources < <(ls src/*.c port/wdk/*.c 2>/dev/null)
mapfile -t headers < <(ls include/wdkmutex/*.h 2>/dev/null)
c_compilers=(gcc clang)
cxx_compilers=(g++ clang++)
ddks=(mingw wine)

# lib: every library source, C11, 2 compilers x 2 DDKs.
for source in "${lib_sources[@]}"; do
  for ddk in "${ddks[@]}"; do
    for name in "${c_compilers[@]}"; do
      compile_cell "$(printf 'lib       %-7s %-5s %s' "$name" "$ddk" "$source")" \
        "$name" "$ddk" "$c_flags" "$source"
    done
  done
done

# header: each public header alone (twice: the guard), C11 and C++17.
for header in "${headers[@]}"; do
  base=$(basename "$header")
  tu=$out/tu/header_$base.c
  printf '#include <wdkmutex/%s>\n#include <wdkmutex/%s>\ntypedef int WdkmPortabilityNotEmpty;\n' \
    "$base" "$base" >"$tu"
  for ddk in "${ddks[@]}"; do
    for name in "${c_compilers[@]}"; do
      compile_cell "$(printf 'header    %-7s %-5s %s' "$name" "$ddk" "$header")" \
        "$name" "$ddk" "$c_flags" "$tu" -fsyntax-only
    done
  done
  for name in "${cxx_compilers[@]}"; do
    compile_cell "$(printf 'header    %-7s %-5s %s' "$name" mingw "$header")" \
      "$name" mingw "$cxx_flags" "$tu" -fsyntax-only
  done
done

# usage: every macro of the API expanded, as C and as C++.
for source in tests/portability/*.c; do
  [ -f "$source" ] || continue
  for ddk in "${ddks[@]}"; do
    for name in "${c_compilers[@]}"; do
      compile_cell "$(printf 'usage     %-7s %-5s %s' "$name" "$ddk" "$source")" \
        "$name" "$ddk" "$c_flags" "$source"
    done
  done
  for name in "${cxx_compilers[@]}"; do
    compile_cell "$(printf 'usage     %-7s %-5s %s' "$name" mingw "$source")" \
      "$name" mingw "$cxx_flags" "$source"
  done
done

# amalg: the single-file distribution, generated here, compiled alone.
amalg=$out/amalgamation
if python3 scripts/amalgamate.py --out "$amalg" >"$out/logs/amalgamate.log" 2>&1; then
  add_cell "amalg     generate      scripts/amalgamate.py" "cat $out/logs/amalgamate.log"
  printf '#include <wdkmutex/wdkmutex.h>\n#include <wdkmutex/wdkmutex.h>\ntypedef int WdkmPortabilityNotEmpty;\n' \
    >"$out/tu/amalgamation_header.c"
  for ddk in "${ddks[@]}"; do
    for name in "${c_compilers[@]}"; do
      if compiler_ok "$name" "$ddk"; then
        extra=""
        [ "$name/$ddk" = clang/mingw ] && extra=$intrin_fix
        add_cell "$(printf 'amalg     %-7s %-5s %s' "$name" "$ddk" wdkmutex.c)" \
          "${cc[$name]} $c_flags $extra ${ddk_flags[$ddk]} -I$amalg -c $amalg/wdkmutex.c -o /dev/null"
      else
        missing_tool "$(printf 'amalg     %-7s %-5s %s' "$name" "$ddk" wdkmutex.c)" "${cc[$name]}"
      fi
    done
  done
  for name in "${cxx_compilers[@]}"; do
    if compiler_ok "$name" mingw; then
      add_cell "$(printf 'amalg     %-7s %-5s %s' "$name" mingw wdkmutex.h)" \
        "${cc[$name]} $cxx_flags $intrin_fix ${ddk_flags[mingw]} -I$amalg -fsyntax-only $out/tu/amalgamation_header.c"
    else
      missing_tool "$(printf 'amalg     %-7s %-5s %s' "$name" mingw wdkmutex.h)" "${cc[$name]}"
    fi
  done
else
  add_cell "amalg     generate      scripts/amalgamate.py" "cat $out/logs/amalgamate.log; exit 1"
fi

# gnu-ext: GNU extensions only behind a compiler check with a fallback.
# One scan of every file; each file's cell reads its own verdict.
gnu_files=()
for file in "${headers[@]}" src/*.h "${lib_sources[@]}" port/wdkm_port.h port/wdk/*.h; do
  [ -f "$file" ] && gnu_files+=("$file")
done
python3 tests/portability/gnu_extensions.py "${gnu_files[@]}" >"$out/logs/gnu_extensions.txt" 2>&1
for file in "${gnu_files[@]}"; do
  add_cell "$(printf 'gnu-ext   %-13s %s' "guarded" "$file")" \
    "awk -v f='$file' '\$1 ~ /^(PASS|FAIL)\$/ { on = (\$2 == f) } on { print; if (\$1 == \"FAIL\") bad = 1; seen = 1 } END { exit (bad || !seen) }' $out/logs/gnu_extensions.txt"
done

# fallback: the non-GNU branches compile (host gcc, __GNUC__ undefined).
host_cc=${HOST_CC:-gcc}
for source in "${lib_sources[@]}"; do
  label=$(printf 'fallback  %-13s %s' "no-__GNUC__" "$source")
  if have "$host_cc"; then
    add_cell "$label" "$host_cc -std=c11 -pedantic-errors -Wall -Wextra -Werror \
-U__GNUC__ -U__GNUC_MINOR__ -U__GNUC_PATCHLEVEL__ -I$root/port/host/include $lib_includes \
-c $source -o /dev/null"
  else
    missing_tool "$label" "$host_cc"
  fi
done

# --- Run them in parallel, report in order ------------------------------------

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
    grep -E 'error:|warning:|missing:|^FAIL|^    [^ ]' "$out/logs/$id.log" \
      | head -n 6 | sed 's/^/        /'
    echo "        (log: $out/logs/$id.log)"
  fi
done

echo "$passed $failed 0" >"$out/summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
