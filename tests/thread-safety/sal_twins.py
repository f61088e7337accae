#!/usr/bin/env python3
"""sal_twins.py HEADER... - every lock contract of the public API is stated
for both analysers, the same way.

A public function (a declaration whose name starts with "Wdkm", not
"Wdkmp") states its lock contract twice (include/wdkmutex/wdkm_annotations.h):
SAL in front, read by MSVC /analyze and Static Driver Verifier, and a WDKM_
macro after the parameter list, read by clang's -Wthread-safety. This
script pairs them:

    _When_(return == 0, _Acquires_lock_(*X))         WDKM_ACQUIRES_LOCK_ON_SUCCESS(X)
    _When_(return == 0, _Acquires_exclusive_lock_(*X))   (the same)
    _When_(return == 0, _Acquires_shared_lock_(*X))  WDKM_ACQUIRES_SHARED_LOCK_ON_SUCCESS(X)
    _Acquires_lock_(*X), _Acquires_exclusive_lock_   WDKM_ACQUIRES_LOCK(X)
    _Acquires_shared_lock_(*X)                       WDKM_ACQUIRES_SHARED_LOCK(X)
    _Releases_lock_(*X) (or _exclusive_, _shared_)   WDKM_RELEASES_LOCK(X)
    _Requires_lock_held_(*X), _exclusive_            WDKM_REQUIRES_LOCK_HELD(X)
    _Requires_shared_lock_held_(*X)                  WDKM_REQUIRES_SHARED_LOCK_HELD(X)
    _Requires_lock_not_held_(*X)                     WDKM_REQUIRES_LOCK_NOT_HELD(X)

and fails a function whose two sets differ, or whose SAL puts a lock
annotation under another _When_ condition (clang's try-acquire knows only
"the function returned this value"). _Post_same_lock_ has no twin.

Prints "PASS HEADER (N functions, M contracts)" or "FAIL HEADER" and one
indented line per problem; exits 1 if any header failed. Standard library
only; comments, strings and preprocessor lines are ignored.
"""
import re
import sys

SAL_LOCK = re.compile(
    r"\b(_Acquires_lock_|_Acquires_exclusive_lock_|_Acquires_shared_lock_|"
    r"_Releases_lock_|_Releases_exclusive_lock_|_Releases_shared_lock_|"
    r"_Requires_lock_held_|_Requires_exclusive_lock_held_|_Requires_shared_lock_held_|"
    r"_Requires_lock_not_held_)\s*\(\s*\*?\s*(\w+)\s*\)")
TWIN = re.compile(
    r"\b(WDKM_ACQUIRES_LOCK_ON_SUCCESS|WDKM_ACQUIRES_SHARED_LOCK_ON_SUCCESS|"
    r"WDKM_ACQUIRES_LOCK|WDKM_ACQUIRES_SHARED_LOCK|WDKM_RELEASES_LOCK|"
    r"WDKM_REQUIRES_LOCK_HELD|WDKM_REQUIRES_SHARED_LOCK_HELD|"
    r"WDKM_REQUIRES_LOCK_NOT_HELD)\s*\(\s*(\w+)\s*\)")
UNCONDITIONAL = {
    "_Acquires_lock_": "WDKM_ACQUIRES_LOCK",
    "_Acquires_exclusive_lock_": "WDKM_ACQUIRES_LOCK",
    "_Acquires_shared_lock_": "WDKM_ACQUIRES_SHARED_LOCK",
    "_Releases_lock_": "WDKM_RELEASES_LOCK",
    "_Releases_exclusive_lock_": "WDKM_RELEASES_LOCK",
    "_Releases_shared_lock_": "WDKM_RELEASES_LOCK",
    "_Requires_lock_held_": "WDKM_REQUIRES_LOCK_HELD",
    "_Requires_exclusive_lock_held_": "WDKM_REQUIRES_LOCK_HELD",
    "_Requires_shared_lock_held_": "WDKM_REQUIRES_SHARED_LOCK_HELD",
    "_Requires_lock_not_held_": "WDKM_REQUIRES_LOCK_NOT_HELD",
}
ON_SUCCESS = {
    "_Acquires_lock_": "WDKM_ACQUIRES_LOCK_ON_SUCCESS",
    "_Acquires_exclusive_lock_": "WDKM_ACQUIRES_LOCK_ON_SUCCESS",
    "_Acquires_shared_lock_": "WDKM_ACQUIRES_SHARED_LOCK_ON_SUCCESS",
}
FUNCTION_NAME = re.compile(r"\b(Wdkm(?!p)\w*)\s*\(")


def strip(text):
    """Comments, strings and preprocessor lines blanked, newlines kept."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", "", text, flags=re.M)
    return text


def balanced(text, start):
    """Index just past the parenthesis group opening at text[start] == '('."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)


def statements(code):
    """Top-level declarations: text up to a ';' or a function body, at depth 0."""
    depth = 0
    start = 0
    for index, char in enumerate(code):
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
            if char == "}" and depth == 0:
                yield code[start:index + 1]
                start = index + 1
        elif char == ";" and depth == 0:
            yield code[start:index + 1]
            start = index + 1


def sal_contracts(front, problems, name):
    """The twins the SAL in front of a declaration calls for."""
    wanted = []
    covered = []
    for match in re.finditer(r"\b_When_\s*\(", front):
        end = balanced(front, match.end() - 1)
        group = front[match.end():end - 1]
        covered.append((match.start(), end))
        condition, _, annotations = group.partition(",")
        locks = SAL_LOCK.findall(annotations)
        if not locks:
            continue
        if not re.fullmatch(r"\s*return\s*==\s*0\s*", condition):
            problems.append(f"{name}: lock annotation under _When_({condition.strip()}, ...): "
                            f"clang can only say 'on a return of 0'")
            continue
        for kind, lock in locks:
            twin = ON_SUCCESS.get(kind)
            if twin is None:
                problems.append(f"{name}: {kind} under _When_(return == 0, ...) has no twin")
            else:
                wanted.append((twin, lock))
    for match in SAL_LOCK.finditer(front):
        if any(start <= match.start() < end for start, end in covered):
            continue
        wanted.append((UNCONDITIONAL[match.group(1)], match.group(2)))
    return wanted


def check(path):
    with open(path, encoding="utf-8") as handle:
        code = strip(handle.read())
    problems = []
    functions = contracts = 0
    for statement in statements(code):
        match = FUNCTION_NAME.search(statement)
        if match is None or statement.lstrip().startswith("typedef"):
            continue
        name = match.group(1)
        front = statement[:match.start()]
        after = balanced(statement, match.end() - 1)
        body = statement.find("{", after)
        trailing = statement[after:body if body >= 0 else len(statement)]
        wanted = sorted(sal_contracts(front, problems, name))
        found = sorted(TWIN.findall(trailing))
        functions += 1
        contracts += len(wanted)
        for twin, lock in wanted:
            if (twin, lock) not in found:
                problems.append(f"{name}: SAL asks for {twin}({lock}) after the parameter list")
        for twin, lock in found:
            if (twin, lock) not in wanted:
                problems.append(f"{name}: {twin}({lock}) has no SAL counterpart in front")
    return functions, contracts, problems


def main(paths):
    failed = False
    for path in paths:
        functions, contracts, problems = check(path)
        if problems:
            failed = True
            print(f"FAIL {path}")
            for problem in problems:
                print(f"    {problem}")
        else:
            print(f"PASS {path} ({functions} functions, {contracts} lock contracts)")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip().split("\n")[0], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
