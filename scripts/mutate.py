#!/usr/bin/env python3
"""mutate.py - does the test suite notice when the library is broken?

Applies, one at a time, the one-line mutations of src/ listed in
tests/mutate/mutations.txt (a check removed or weakened, a wait deleted, a
count skipped) to a scratch copy of the tree (built without -Werror),
rebuilds the host unit programs (release, checked, the KMUTEX
recursion-limit program, the registry's few-ids program) and runs them. A mutation is *killed* when a test
fails (or a program crashes, hangs or a sanitizer reports); it *survives*
when every test still passes; it is INVALID when its text no longer
matches src/ or the mutant does not build. A survivor is a hole in the suite, unless the list explains why the
mutation cannot be observed (a "survives:" line, mirrored in
docs/reliability.md).

    scripts/mutate.py [--build DIR] [--only ID[,ID...]] [--short] [--list]

--short runs only the mutations marked "short: yes" (seconds each).
Exit status 0 when every mutation is killed or explained, 1 otherwise.
The report goes to stdout and DIR/report.md; DIR/summary holds
"killed survived 0" for scripts/check.sh-style callers.

The list format, one block per mutation, blank-line separated:

    [id]
    file: src/wdkm_grt.c
    find: the exact text of one line (stripped), unique in the file...
    after: ...or the first such line after this unique one (optional)
    replace: what the line becomes (may be empty: the line is deleted)
    what: the broken promise, in words
    build: tsan        (optional: also run the TSan build; plain always runs)
    interrupts: yes    (optional: also run the suites with interrupt injection
                        on, as make check-interrupts does; needs suites:)
    suites: grt stress (optional: only these suites, for speed)
    short: yes         (optional: part of --short)
    survives: why      (optional: the mutation cannot be observed, and why)
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(ROOT, "tests", "mutate", "mutations.txt")
TEST_TIMEOUT = 120      # a hang is a kill; a whole program takes under a minute


def parse_list(path):
    mutations, current = [], None
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.rstrip("\n")
            if line.startswith("#") or not line.strip():
                continue
            if line.startswith("[") and line.endswith("]"):
                current = {"id": line[1:-1], "line": number}
                mutations.append(current)
                continue
            if current is None or ":" not in line:
                sys.exit(f"{path}:{number}: expected '[id]' or 'key: value'")
            key, value = line.split(":", 1)
            current[key.strip()] = value.strip()
    for mutation in mutations:
        for key in ("file", "find", "what"):
            if key not in mutation:
                sys.exit(f"{path}:{mutation['line']}: [{mutation['id']}] has no '{key}:'")
        mutation.setdefault("replace", "")
    return mutations


def run(command, cwd, log, timeout=None, env=None):
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        try:
            return subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout, env=env).returncode
        except subprocess.TimeoutExpired:
            out.write("timed out\n")
            return 124


def copy_tree(destination):
    """The tracked and untracked-but-not-ignored files, as they are now.

    The copy is built without -Werror: a mutation that leaves a parameter
    unused or a comparison always false is still a mutant to run, and a
    build that fails all the same is reported INVALID, never a kill.

    A file whose copy is already right is left alone (the builds stay
    incremental); any other is written afresh, with a new time stamp, so
    that a mutant left behind by an interrupted run is rebuilt, never
    linked again."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split("\n")
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if not os.path.isfile(source):
            continue
        with open(source, "rb") as handle:
            content = handle.read()
        if name == os.path.join("cmake", "WdkmHost.cmake"):
            content = content.replace(b" -Werror", b"")
        target = os.path.join(destination, name)
        if os.path.isfile(target):
            with open(target, "rb") as handle:
                if handle.read() == content:
                    continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(content)


def configure(tree, build, compiler, sanitize, log):
    return run(["cmake", "-S", tree, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                f"-DCMAKE_C_COMPILER={compiler}", f"-DWDKM_SANITIZE={sanitize}"], tree, log) == 0


def locate(tree, mutation):
    """(original text, its lines, the index of the line to mutate), or an
    error string starting with '!'."""
    path = os.path.join(tree, mutation["file"])
    if not os.path.isfile(path):
        return "!no such file"
    with open(path, encoding="utf-8") as handle:
        original = handle.read()
    lines = original.split("\n")
    start = 0
    if "after" in mutation:
        anchors = [i for i, line in enumerate(lines) if line.strip() == mutation["after"]]
        if len(anchors) != 1:
            return f"!'after' matches {len(anchors)} lines (must be exactly 1)"
        start = anchors[0] + 1
        hits = [i for i in range(start, len(lines)) if lines[i].strip() == mutation["find"]][:1]
    else:
        hits = [i for i, line in enumerate(lines) if line.strip() == mutation["find"]]
    if len(hits) != 1:
        return f"!'find' matches {len(hits)} lines (must be exactly 1)"
    return original, lines, hits[0]


def apply(tree, mutation):
    """Returns the file's original text, or an error string starting with '!'."""
    found = locate(tree, mutation)
    if isinstance(found, str):
        return found
    original, lines, index = found
    path = os.path.join(tree, mutation["file"])
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    if mutation["replace"]:
        lines[index] = indent + mutation["replace"]
    else:
        del lines[index]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    return original


def restore(tree, mutation, original):
    with open(os.path.join(tree, mutation["file"]), "w", encoding="utf-8") as handle:
        handle.write(original)


# The programs every mutation is run against: the release and checked
# builds of every suite, the KMUTEX recursion limit, which needs a library
# built with a small WDKM_KMUTEX_MAX_RECURSION of its own, and the
# registry's chunks without a cache id (a library with few of them).
PROGRAMS = ("wdkm_unit_tests", "wdkm_unit_tests_checked", "wdkm_recursion_limit_test",
            "wdkm_grt_ids_test")


# The settings of make check-interrupts (scripts/run-interrupts.sh).
INTERRUPTS = {"WDKM_HOST_INTERRUPTS": "seed=1,interval=200,dpc=2,napc=1,sapc=1,suspend=200"}


def run_program(command, build, log, env):
    """The exit status, and how many tests ran (None if no summary line)."""
    output = os.path.join(build, "last-run.log")
    status = run(command, build, output, timeout=TEST_TIMEOUT, env=env)
    with open(output, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    os.remove(output)
    with open(log, "a", encoding="utf-8") as out:
        out.write(text)
    counts = re.findall(r"^(\d+) passed, (\d+) failed$", text, re.MULTILINE)
    ran = int(counts[-1][0]) + int(counts[-1][1]) if counts else None
    return status, ran


def killed_by(build, suites, log, env):
    """The first failing program's name, or None if every program passed.

    Each name in suites is a filter of its own (the test programs take one);
    a program in which a filter matches no test is not run for it."""
    if run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2), "--target"]
           + list(PROGRAMS), build, log) != 0:
        return "build"
    for name in PROGRAMS:
        program = os.path.join(build, "tests", "unit", name)
        for suite in (suites.split() if suites else [None]):
            command = [program] + ([suite] if suite else [])
            status, ran = run_program(command, build, log, env)
            if status != 0 and ran != 0:
                return name + (f" {suite}" if suite else "")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "mutate"))
    parser.add_argument("--only", default="")
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--check-list", metavar="SUMMARY", default=None,
                        help="only check that every entry still matches the code (no build); "
                             "write 'passed failed 0' to SUMMARY")
    args = parser.parse_args()

    mutations = parse_list(LIST)
    if args.only:
        wanted = set(args.only.split(","))
        mutations = [m for m in mutations if m["id"] in wanted]
    elif args.short:
        mutations = [m for m in mutations if m.get("short") == "yes"]
    if args.list:
        for mutation in mutations:
            print(f"{mutation['id']:32} {mutation['file']}: {mutation['what']}")
        return 0
    if args.check_list is not None:
        # A list that no longer follows the code would report INVALID only in
        # the long run: make check catches it here, in a second.
        failed = 0
        for mutation in mutations:
            found = locate(ROOT, mutation)
            if isinstance(found, str):
                failed += 1
                print(f"FAIL  {mutation['id']}: {found[1:]} in {mutation['file']}")
        print(f"{len(mutations) - failed} passed, {failed} failed")
        os.makedirs(os.path.dirname(os.path.abspath(args.check_list)), exist_ok=True)
        with open(args.check_list, "w", encoding="utf-8") as handle:
            handle.write(f"{len(mutations) - failed} {failed} 0\n")
        return 1 if failed else 0

    build = os.path.abspath(args.build)
    tree = os.path.join(build, "tree")
    os.makedirs(build, exist_ok=True)
    log = os.path.join(build, "mutate.log")
    open(log, "w").close()
    copy_tree(tree)
    # A run interrupted while a mutant was applied left it built: make the
    # file it mutated newer than those objects, so that they are rebuilt.
    marker = os.path.join(build, "mutating")
    if os.path.isfile(marker):
        with open(marker, encoding="utf-8") as handle:
            stale = os.path.join(tree, handle.read().strip())
        if os.path.isfile(stale):
            os.utime(stale)
        os.remove(marker)
    builds = {"plain": os.path.join(build, "plain")}
    if any(m.get("build") == "tsan" for m in mutations):
        builds["tsan"] = os.path.join(build, "tsan")
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1")
    for name, directory in builds.items():
        compiler, sanitize = ("gcc", "") if name == "plain" else ("clang", "thread")
        if not configure(tree, directory, compiler, sanitize, log):
            print(f"mutate: configuring the {name} build failed (log: {log})")
            return 1
        # The unmutated tree must pass, or every mutation looks killed.
        culprit = killed_by(directory, "", log, env)
        injected = " ".join(sorted({m["suites"] for m in mutations
                                    if m.get("interrupts") == "yes" and "suites" in m}))
        if not culprit and injected:
            culprit = killed_by(directory, injected, log, dict(env, **INTERRUPTS))
        if culprit:
            print(f"mutate: the unmutated {name} build fails ({culprit}); fix that first (log: {log})")
            return 1

    rows, killed, survived, explained, invalid = [], 0, 0, 0, 0
    for mutation in mutations:
        start = time.time()
        with open(os.path.join(build, "mutating"), "w", encoding="utf-8") as handle:
            handle.write(mutation["file"])
        original = apply(tree, mutation)
        if original.startswith("!"):
            os.remove(os.path.join(build, "mutating"))
            rows.append((mutation, "INVALID", original[1:]))
            invalid += 1
            print(f"INVALID   {mutation['id']}: {original[1:]}", flush=True)
            continue
        verdict, by = "SURVIVED", ""
        try:
            for name in ["plain"] + (["tsan"] if mutation.get("build") == "tsan" else []):
                culprit = killed_by(builds[name], mutation.get("suites", ""), log, env)
                if not culprit and mutation.get("interrupts") == "yes":
                    culprit = killed_by(builds[name], mutation.get("suites", ""), log,
                                        dict(env, **INTERRUPTS))
                    culprit = culprit and culprit + " (interrupts)"
                if culprit == "build":
                    verdict, by = "INVALID", f"{name}: the mutant does not build"
                    break
                if culprit:
                    verdict, by = "KILLED", f"{name}: {culprit}"
                    break
        finally:
            restore(tree, mutation, original)
            os.remove(os.path.join(build, "mutating"))
        if verdict == "INVALID":
            invalid += 1
        elif verdict == "KILLED":
            killed += 1
        elif mutation.get("survives"):
            verdict = "EXPLAINED"
            explained += 1
        else:
            survived += 1
        rows.append((mutation, verdict, by or mutation.get("survives", "")))
        print(f"{verdict:9} {mutation['id']} ({time.time() - start:.0f} s) {by}", flush=True)

    with open(os.path.join(build, "report.md"), "w", encoding="utf-8") as report:
        report.write("| mutation | file | what | verdict | by / why |\n|---|---|---|---|---|\n")
        for mutation, verdict, note in rows:
            report.write(f"| {mutation['id']} | {mutation['file']} | {mutation['what']} | "
                         f"{verdict} | {note} |\n")
    with open(os.path.join(build, "summary"), "w", encoding="utf-8") as summary:
        summary.write(f"{killed + explained} {survived + invalid} 0\n")
    print(f"\nmutate: {killed} killed, {explained} survive with a reason, "
          f"{survived} survived, {invalid} invalid, of {len(mutations)}")
    print(f"{killed + explained} passed, {survived + invalid} failed")
    return 0 if survived == 0 and invalid == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
