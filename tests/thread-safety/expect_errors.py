#!/usr/bin/env python3
"""expect_errors.py --analysis=FLAGS SOURCE COMPILER [ARGS...] - a negative
thread-safety test fails to compile, for the reasons it states and no other.

SOURCE lists what must go wrong in comments of the form

    /* expect: REGEX */

one per error the analysis must report (a Python regular expression that
must match the error's message, the text between "error: " and the
"[-Werror,...]" flag). The test passes when:

  1. COMPILER ARGS -fsyntax-only SOURCE succeeds: without the analysis the
     file is valid, warning-free code, so the analysis is the only reason
     it fails;
  2. the same with FLAGS (e.g. -Wthread-safety) fails;
  3. every error it reports is a -Wthread-safety one;
  4. each expect comment matches an error of its own, and no error is left
     over.

Used by scripts/check-thread-safety.sh; prints what it checked and, on
failure, why and the compiler's output. Exit status 0 if the test passed.
"""
import re
import shlex
import subprocess
import sys

EXPECT = re.compile(r"/\*\s*expect:\s*(.*?)\s*\*/")
ERROR = re.compile(r"^(?P<where>[^\s:][^:]*:\d+:\d+): (?:fatal )?error: (?P<message>.*?)"
                   r"(?: \[(?P<flags>[^\]]*)\])?$")


def run(command):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)
    return result.returncode, result.stdout


def main(argv):
    if len(argv) < 3 or not argv[0].startswith("--analysis="):
        print(__doc__.strip().split("\n")[0], file=sys.stderr)
        return 2
    analysis = shlex.split(argv[0][len("--analysis="):])
    source, compiler = argv[1], argv[2:]
    with open(source, encoding="utf-8") as handle:
        expected = [re.compile(text) for text in EXPECT.findall(handle.read())]
    if not expected:
        print(f"FAIL: {source} has no /* expect: ... */ comment")
        return 1

    rc, output = run(compiler + ["-fsyntax-only", source])
    if rc != 0:
        print(f"FAIL: {source} does not compile even without {' '.join(analysis)}:")
        print(output)
        return 1

    rc, output = run(compiler + analysis + ["-fno-color-diagnostics", "-fsyntax-only", source])
    errors = [match for match in map(ERROR.match, output.splitlines()) if match]
    problems = []
    if rc == 0:
        problems.append(f"compiled with {' '.join(analysis)}: the analysis found nothing")
    for error in errors:
        if "-Wthread-safety" not in (error.group("flags") or ""):
            problems.append(f"an error that is not the analysis': {error.group(0)}")
    unused = [error for error in errors if "-Wthread-safety" in (error.group("flags") or "")]
    for pattern in expected:
        for error in unused:
            if pattern.search(error.group("message")):
                unused.remove(error)
                print(f"ok    {error.group('where')}: {error.group('message')}")
                break
        else:
            problems.append(f"no error matches the expected /{pattern.pattern}/")
    for error in unused:
        problems.append(f"an error no expect comment names: {error.group(0)}")
    if problems:
        for problem in problems:
            print(f"FAIL: {problem}")
        print("--- compiler output ---")
        print(output)
        return 1
    print(f"{len(expected)} expected errors, nothing else")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
