#!/bin/sh
# check_release_diagnostics.sh RELEASE_LIB CHECKED_LIB [DRIVER_OBJECTS] - a
# release build of the library contains no diagnostics code (wdkm_diag.h):
# no symbol of the validator is defined in it, and its diagnostics object
# defines nothing. The checked library is the control: the same checks
# must find them there. DRIVER_OBJECTS (';'-separated) are objects of code
# that uses the library, built for release: their inline fast paths must
# ask for the layout symbol the release library defines.
set -u
Release=$1
Checked=$2
DriverObjects=${3:-}
Nm=${NM:-nm}
Passed=0
Failed=0

check() {
    if [ "$2" = yes ]; then
        echo "PASS release.$1"
        Passed=$((Passed + 1))
    else
        echo "FAIL release.$1: $3"
        Failed=$((Failed + 1))
    fi
}

# Defined (text, data, bss) symbols whose name says diagnostics.
diag_symbols() {
    "$Nm" -g --defined-only "$1" 2>/dev/null | awk '{print $NF}' | grep -E 'W[dD]kmp?Diag' || true
}

ReleaseSymbols=$(diag_symbols "$Release")
CheckedSymbols=$(diag_symbols "$Checked")
[ -z "$ReleaseSymbols" ] && R=yes || R=no
check no_diagnostics_symbols "$R" "defined in release: $(echo $ReleaseSymbols)"
[ -n "$CheckedSymbols" ] && R=yes || R=no
check checked_control_has_them "$R" "the checked library defines no diagnostics symbol"

# Every symbol the release diagnostics objects (wdkm_diag*.c) define (static ones too),
# leaving out what a sanitizer's instrumentation adds to every object
# (asan.module_ctor, __tsan_*, ...).
# The objects must be there to be empty (a wrong path would pass vacuously).
Objects=$("$Nm" --defined-only "$Release" 2>/dev/null | grep -c -E '^.*wdkm_diag[a-z_]*\.c\.o(bj)?:$' || true)
[ "$Objects" -ge 1 ] && R=yes || R=no
check diagnostics_objects_present "$R" "no wdkm_diag*.c object in $Release"
ObjectSymbols=$("$Nm" --defined-only "$Release" 2>/dev/null |
    awk '/^.*wdkm_diag[a-z_]*\.c\.o(bj)?:$/ {inside = 1; next} /:$/ {inside = 0} inside && NF >= 3 {print $3}' |
    grep -v -E '^(asan|tsan|ubsan|sancov)\.|^__(asan|tsan|ubsan|sanitizer|sancov)' || true)
[ -z "$ObjectSymbols" ] && R=yes || R=no
check diagnostics_objects_empty "$R" "the wdkm_diag*.c objects define: $(echo $ObjectSymbols)"

# The layout's symbol names the build and the layout's revision
# (wdkm_layout.h): a release-built driver's inline fast paths reference
# WdkmpLayoutRelease<revision>, which a checked library, or one of another
# revision, does not define, so the mix fails to link instead of acquiring
# the wrong memory.
Revision=$(sed -n 's/^#define WDKMP_LAYOUT_REVISION \([0-9][0-9]*\)$/\1/p' \
    "$(dirname "$0")/../../include/wdkmutex/wdkm_layout.h")
defines() { "$Nm" --defined-only "$1" 2>/dev/null | awk 'NF >= 3 {print $3}' | grep -qx "$2"; }
defines "$Release" "WdkmpLayoutRelease$Revision" && ! defines "$Release" "WdkmpLayoutChecked$Revision" && R=yes || R=no
check release_layout_symbol "$R" "the release library does not define WdkmpLayoutRelease$Revision alone"
defines "$Checked" "WdkmpLayoutChecked$Revision" && ! defines "$Checked" "WdkmpLayoutRelease$Revision" && R=yes || R=no
check checked_layout_symbol "$R" "the checked library does not define WdkmpLayoutChecked$Revision alone"
if [ -n "$DriverObjects" ]; then
    # The other half of the link check: the callers' objects need exactly
    # that name (and no other build's or revision's).
    Wanted=$(echo "$DriverObjects" | tr ';' '\n' | while read -r Object; do
        [ -n "$Object" ] && "$Nm" -u "$Object" 2>/dev/null | awk '{print $NF}'
    done | grep -E '^WdkmpLayout' | sort -u)
    [ "$Wanted" = "WdkmpLayoutRelease$Revision" ] && R=yes || R=no
    check driver_layout_symbol "$R" "the release callers ask for '$(echo $Wanted)', not WdkmpLayoutRelease$Revision alone"
fi

echo "    checked build: $(echo "$CheckedSymbols" | wc -l) diagnostics symbols; release: $(echo "$ReleaseSymbols" | grep -c . ) "
echo "$Passed passed, $Failed failed"
[ "$Failed" -eq 0 ]
