#!/usr/bin/env bash
# Installs what the build and tests need on Debian 12, and nothing if it is
# all there already. Needs root (or sudo) only when something is missing.
set -euo pipefail

# command-to-check  Debian package
needs=(
  "cmake                      cmake"
  "make                       make"
  "gcc                        gcc"
  "clang                      clang"
  "x86_64-w64-mingw32-gcc     gcc-mingw-w64-x86-64"
  "x86_64-w64-mingw32-g++     g++-mingw-w64-x86-64"
  "wine                       wine"
  "timeout                    coreutils"
  "valgrind                   valgrind"
  "python3                    python3"
)
# Files whose package the commands above do not pull in.
files=(
  "/usr/lib/wine/wine64                                                   wine64"
  "/usr/include/wine/wine/windows/ddk/wdm.h                               libwine-dev"
  "/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.tsan-x86_64.a  libclang-rt-14-dev"
)

missing=()
for entry in "${needs[@]}"; do
  read -r cmd pkg <<<"$entry"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
for entry in "${files[@]}"; do
  read -r file pkg <<<"$entry"
  [ -e "$file" ] || missing+=("$pkg")
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | grep -v '^$' | sort -u)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
echo "install-deps: done"
