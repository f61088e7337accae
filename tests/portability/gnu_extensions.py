#!/usr/bin/env python3
"""gnu_extensions.py FILE... - report GNU C extensions that are not behind a
compiler check with a portable fallback.

MSVC (the compiler Windows drivers are built with) has no statement
expressions, no __attribute__, no __atomic/__sync/__builtin functions, no
GNU inline asm, no typeof before C23. The library may use them only inside a
preprocessor branch whose condition names __GNUC__ or __clang__ (positively:
`#if defined(__GNUC__) || defined(__clang__)`, `#ifdef __GNUC__`), and:

  - an attribute (__attribute__) may have an empty fallback: the branch
    needs no #else, since dropping an attribute keeps the meaning;
  - anything else (builtins, asm, typeof, statement expressions, ...) changes
    what the code does, so its #if must have an #else or #elif: the
    portable fallback.

Comments and string literals are ignored; #define bodies are scanned (a
macro defined in a guarded branch is guarded). The script does not prove
the fallback correct: scripts/check-portability.sh also compiles every
source with __GNUC__ undefined, which takes the fallbacks.

Prints one line per file, "PASS path" or "FAIL path" followed by one
indented line per finding; exits 1 if any file failed.
"""
import re
import sys

# (name, regex, needs a fallback branch)
EXTENSIONS = [
    ("__attribute__", re.compile(r"\b__attribute__\b"), False),
    ("__atomic builtin", re.compile(r"\b__atomic_\w+"), True),
    ("__sync builtin", re.compile(r"\b__sync_\w+"), True),
    ("__builtin function", re.compile(r"\b__builtin_\w+"), True),
    ("inline asm", re.compile(r"\b(?:__asm__|__asm|asm)\b"), True),
    ("typeof", re.compile(r"\b(?:__typeof__|__typeof|typeof|__auto_type)\b"), True),
    ("__extension__", re.compile(r"\b__extension__\b"), True),
    ("__label__", re.compile(r"\b__label__\b"), True),
    ("__thread", re.compile(r"\b__thread\b"), True),
    ("__int128", re.compile(r"\b__int128\b"), True),
    ("__FUNCTION__/__PRETTY_FUNCTION__", re.compile(r"\b__(?:PRETTY_)?FUNCTION__\b"), True),
    ("statement expression", re.compile(r"\(\s*\{"), True),
    ("omitted ?: operand", re.compile(r"\?\s*:"), True),
    ("case range", re.compile(r"\bcase\b[^:;]*\.\.\."), True),
    ("_Pragma(\"GCC ...\")", re.compile(r"_Pragma\s*\(\s*\"\s*GCC\b"), True),
]
DIRECTIVE_EXTENSIONS = [
    ("#include_next", re.compile(r"^\s*#\s*include_next\b"), True),
    ("#pragma GCC", re.compile(r"^\s*#\s*pragma\s+GCC\b"), True),
]
GNU_MACRO = re.compile(r"__GNUC__|__clang__")


def strip_comments_and_strings(text):
    """Blank out comments and string/char literals, keeping newlines."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            # Keep the quotes (so _Pragma("GCC ...") is still visible).
            body = text[i + 1:j - 1]
            if c == '"' and re.match(r"\s*GCC\b", body):
                out.append(text[i:j])
            else:
                out.append(c + " " * max(0, j - i - 2) + (c if j - i >= 2 else ""))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def logical_lines(text):
    """Yield (first physical line number, logical line) joining backslash continuations."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start = i
        line = lines[i]
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1] + " " + lines[i]
        yield start + 1, line
        i += 1


class Frame:
    def __init__(self):
        self.branches = []   # True if that branch's condition names __GNUC__/__clang__ positively

    def current_is_gnu(self):
        return self.branches[-1]


def positive_gnu(condition):
    """True if the condition requires __GNUC__ or __clang__ (not only their absence)."""
    for match in GNU_MACRO.finditer(condition):
        before = condition[:match.start()].rstrip()
        before = re.sub(r"defined\s*\(?\s*$", "", before).rstrip()
        if not before.endswith("!"):
            return True
    return False


def scan(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = strip_comments_and_strings(handle.read())
    findings = []   # (line, name, frame or None, needs_fallback)
    stack = []
    for number, line in logical_lines(text):
        directive = re.match(r"^\s*#\s*(\w+)(.*)$", line)
        if directive:
            word, rest = directive.group(1), directive.group(2)
            if word in ("if", "ifdef", "ifndef"):
                frame = Frame()
                if word == "ifdef":
                    frame.branches.append(bool(GNU_MACRO.search(rest)))
                elif word == "ifndef":
                    frame.branches.append(False)
                else:
                    frame.branches.append(positive_gnu(rest))
                stack.append(frame)
                continue
            if word == "elif" and stack:
                stack[-1].branches.append(positive_gnu(rest))
                continue
            if word == "else" and stack:
                stack[-1].branches.append(False)
                continue
            if word == "endif" and stack:
                stack.pop()
                continue
            for name, regex, needs_fallback in DIRECTIVE_EXTENSIONS:
                if regex.search(line):
                    findings.append((number, name, guard(stack), needs_fallback))
            if word != "define":
                continue
        for name, regex, needs_fallback in EXTENSIONS:
            if regex.search(line):
                findings.append((number, name, guard(stack), needs_fallback))
    problems = []
    for number, name, frame, needs_fallback in findings:
        if frame is None:
            problems.append(f"{path}:{number}: {name} outside any __GNUC__/__clang__ check")
        elif needs_fallback and len(frame.branches) < 2:
            problems.append(f"{path}:{number}: {name} behind a compiler check without an "
                            f"#else/#elif fallback")
    return problems


def guard(stack):
    """The innermost frame whose current branch is a positive GNU check, or None."""
    for frame in reversed(stack):
        if frame.current_is_gnu():
            return frame
    return None


def main(paths):
    failed = False
    for path in paths:
        problems = scan(path)
        if problems:
            failed = True
            print(f"FAIL {path}")
            for problem in problems:
                print(f"    {problem}")
        else:
            print(f"PASS {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip().split("\n")[0], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
