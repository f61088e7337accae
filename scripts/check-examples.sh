#!/usr/bin/env bash
# check-examples.sh [BUILD_DIR] - every C example in README.md and docs/
# compiles (and the host-test examples run).
#
# A fenced block opened with ```c is an example. Its info string may add:
#   (nothing)     part of the page's program: all such blocks of one
#                 Markdown file, in order, form one translation unit;
#   standalone    a translation unit of its own;
#   host          part of the page's host test program: all such blocks
#                 of the file, in order, are compiled against the host
#                 emulation, linked with the library and the emulation,
#                 and run; the program must exit with status 0.
#   host file=NAME
#                 written to the file NAME instead (no prelude; blocks of
#                 one page naming the same file are joined); the page's
#                 .c files are compiled together into one host program,
#                 each its own translation unit as a reader would build
#                 them, linked and run as above.
# Every other language (```sh, ```cmake, indented text) is not compiled.
#
# Each translation unit starts with #include <ntddk.h> and
# #include <wdkmutex/wdkmutex.h> (examples may include them again), and
# every block is preceded by a #line directive, so that messages point into
# the Markdown file. Each one is compiled, as C11 with -Wall -Wextra
# -Werror -pedantic-errors (unused parameters, functions and variables
# allowed: examples are fragments of drivers; and multi-character pool
# tags, as the kernel build allows them):
#   mingw   x86_64-w64-mingw32-gcc against the mingw-w64 DDK, kernel flags;
#   host    clang against the host emulation (port/host/include), with
#           _Must_inspect_result_ turned into warn_unused_result, so an
#           example that ignores a result it must inspect fails.
# Host programs (blocks marked host) are compiled, linked and run only on
# the host.
#
# One line per cell, "N passed, N failed", counts in BUILD_DIR/summary
# ("passed failed skipped", BUILD_DIR defaults to build/examples); exit
# status 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
out=${1:-build/examples}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
rm -rf "$out/tu" "$out/logs" "$out/hostlib" "$out/summary"
mkdir -p "$out/tu" "$out/logs" "$out/hostlib"

mingw_cc=${MINGW_CC:-x86_64-w64-mingw32-gcc}
mingw_ddk=${MINGW_DDK:-/usr/x86_64-w64-mingw32/include/ddk}
host_cc=${HOST_CC:-clang}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
example_warnings="-Wall -Wextra -Werror -pedantic-errors -Wno-unused-parameter -Wno-unused-function \
-Wno-unused-variable -Wno-unused-but-set-variable -Wno-multichar"
mingw_flags="-std=c11 -O2 $example_warnings -ffreestanding -fno-stack-protector -mno-red-zone \
-D_AMD64_ -D_KERNEL_MODE=1 -DNTDDI_VERSION=0x0A000000 -D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 \
-D__USE_MINGW_ANSI_STDIO=0 -isystem $mingw_ddk -I$root/include"
host_flags="-std=c11 -g -O1 $example_warnings -pthread \
'-D_Must_inspect_result_=__attribute__((__warn_unused_result__))' \
-include $root/tests/portability/examples/host_prelude.h \
-I$root/port/host/include -I$root/include"

# --- Extract: one .c per translation unit, and a list of them ----------------
mapfile -t pages < <(ls README.md docs/*.md docs/**/*.md 2>/dev/null | sort -u)
python3 - "$out/tu" "${pages[@]}" >"$out/units.txt" <<'PYTHON'
import os
import re
import sys

out_dir, pages = sys.argv[1], sys.argv[2:]
PRELUDE = "#include <ntddk.h>\n#include <wdkmutex/wdkmutex.h>\n"
DECLARATION = re.compile(r"^\s*[A-Z_]+\s+Wdkm[A-Z]\w*\s*\([^;{]*\);", re.M)
fence = re.compile(r"^(\s*)(```+|~~~+)\s*([A-Za-z0-9_+-]*)\s*(.*?)\s*$")
for page in pages:
    lines = open(page, encoding="utf-8").read().split("\n")
    units = {"page": [], "host": []}
    files = {}
    standalone = []
    i = 0
    while i < len(lines):
        match = fence.match(lines[i])
        if not match:
            i += 1
            continue
        marker, language, info = match.group(2), match.group(3), match.group(4).split()
        start = i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(marker[:3]):
            j += 1
        if language == "c":
            indent = len(match.group(1))
            body = "\n".join(line[indent:] if line[:indent].isspace() else line for line in lines[start:j])
            block = f'#line {start + 1} "{page}"\n{body}\n'
            names = [word[len("file="):] for word in info if word.startswith("file=")]
            unknown = [word for word in info
                       if word not in ("standalone", "host") and not word.startswith("file=")]
            if names and ("host" not in info or len(names) != 1 or
                          not re.fullmatch(r"[A-Za-z0-9_.-]+\.[ch]", names[0])):
                unknown.append("file= (one NAME.c or NAME.h, host blocks only)")
            if unknown:
                print(f"error {page}:{i + 1}: unknown example tag(s) {' '.join(unknown)}", file=sys.stderr)
                sys.exit(1)
            if names:
                files.setdefault(names[0], []).append(block)
            elif "host" in info:
                units["host"].append(block)
            elif "standalone" in info:
                standalone.append((start + 1, block))
            else:
                units["page"].append(block)
        i = j + 1
    stem = re.sub(r"[^A-Za-z0-9]+", "_", page).strip("_")
    def write(name, kind, blocks, label):
        path = os.path.join(out_dir, name + ".c")
        prelude = PRELUDE
        if any(DECLARATION.search(block) for block in blocks):
            # A listing that declares the library's functions again: the
            # release build's inline fast paths make some of their names
            # macros (wdkm_fastpath.h), which would rewrite the declarations.
            prelude = "#define WDKM_INLINE_FAST_PATHS 0\n" + PRELUDE
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(prelude + "".join(blocks))
        print(f"{kind}\t{path}\t{label}")
    if units["page"]:
        write(stem, "kernel", units["page"], f"{page} ({len(units['page'])} blocks)")
    for line, block in standalone:
        write(f"{stem}_line{line}", "kernel", [block], f"{page}:{line} (standalone)")
    if units["host"]:
        write(stem + "_host", "host", units["host"], f"{page} host program ({len(units['host'])} blocks)")
    if files:
        directory = os.path.join(out_dir, stem + "_files")
        os.makedirs(directory, exist_ok=True)
        for name, blocks in files.items():
            with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
                handle.write("".join(blocks))
        print(f"hostfiles\t{directory}\t{page} host program ({' '.join(sorted(files))})")
PYTHON
if [ $? -ne 0 ]; then
  echo "FAIL  extracting the examples"
  echo "0 1 0" >"$out/summary"
  echo "0 passed, 1 failed"
  exit 1
fi

# --- Cells -----------------------------------------------------------------
count=0
labels=()
add_cell() {   # add_cell LABEL COMMAND
  local id
  id=$(printf '%04d' "$count")
  count=$((count + 1))
  labels+=("$1")
  printf 'cd %q || exit 1\n%s\n' "$root" "$2" >"$out/logs/$id.sh"
}

host_programs=()
while IFS=$'\t' read -r kind tu label; do
  if [ "$kind" = kernel ]; then
    add_cell "$(printf 'mingw  %s' "$label")" "$mingw_cc $mingw_flags -c $tu -o /dev/null"
    add_cell "$(printf 'host   %s' "$label")" "$host_cc $host_flags -c $tu -o /dev/null"
  else
    host_programs+=("$kind	$tu	$label")
  fi
done <"$out/units.txt"

run_cells() {
  local id
  for ((id = 0; id < count; id++)); do printf '%04d\n' "$id"; done |
    xargs -P "$jobs" -I{} bash -c "bash '$out/logs/{}.sh' >'$out/logs/{}.log' 2>&1; echo \$? >'$out/logs/{}.rc'"
}

# The host library for host programs: library + port + emulation, compiled
# once (in parallel) into BUILD_DIR/hostlib/libwdkm_examples.a.
build_hostlib() {
  local sources=(src/*.c port/wdk/*.c port/host/*.c)
  printf '%s\n' "${sources[@]}" | xargs -P "$jobs" -I{} sh -c \
    "$host_cc -std=c11 -g -O1 -pthread -Wall -Wextra -Werror -I$root/port/host/include -I$root/include \
     -I$root/port -I$root/src -c {} -o $out/hostlib/\$(echo {} | tr / _).o" &&
  ar rcs "$out/hostlib/libwdkm_examples.a" "$out"/hostlib/*.o
}

if [ ${#host_programs[@]} -gt 0 ]; then
  if build_hostlib >"$out/logs/hostlib.log" 2>&1; then
    hostlib_ok=1
  else
    hostlib_ok=0
  fi
  for entry in "${host_programs[@]}"; do
    kind=${entry%%	*}
    entry=${entry#*	}
    tu=${entry%%	*}
    label=${entry#*	}
    if [ "$kind" = hostfiles ]; then
      sources="$tu/*.c"         # the page's files, each its own translation unit
      exe=$tu/program
    else
      sources=$tu
      exe=${tu%.c}
    fi
    if [ "$hostlib_ok" = 1 ]; then
      add_cell "$(printf 'run    %s' "$label")" \
        "$host_cc $host_flags $sources -o $exe $out/hostlib/libwdkm_examples.a -lpthread && timeout 120 $exe"
    else
      add_cell "$(printf 'run    %s' "$label")" "cat $out/logs/hostlib.log; echo 'FAIL: the host library did not build'; exit 1"
    fi
  done
fi

run_cells

passed=0 failed=0
for ((i = 0; i < count; i++)); do
  id=$(printf '%04d' "$i")
  rc=$(cat "$out/logs/$id.rc" 2>/dev/null || echo 1)
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    echo "PASS  ${labels[$i]}"
  else
    failed=$((failed + 1))
    echo "FAIL  ${labels[$i]}"
    grep -E 'error|warning:|FAIL|STOP|Assert|failed' "$out/logs/$id.log" | head -n 8 | sed 's/^/        /'
    echo "        (log: $out/logs/$id.log)"
  fi
done
if [ "$count" -eq 0 ]; then
  echo "FAIL  no C example found in README.md or docs/"
  failed=1
fi

echo "$passed $failed 0" >"$out/summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
