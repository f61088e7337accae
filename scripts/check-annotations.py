#!/usr/bin/env python3
"""check-annotations.py [BUILD_DIR] - the public API's contracts, checked.

For every public function declared in include/wdkmutex/*.h (a prototype or
a header inline function whose name starts with "Wdkm" and not "Wdkmp"),
four checks, each one a counted result:

  irql          the declaration carries an IRQL annotation:
                _IRQL_requires_(L), _IRQL_requires_max_(L) or
                _IRQL_requires_min_(L), possibly inside _When_(...).
  must-inspect  the rule of the headers' convention for NTSTATUS results:
                a function returning NTSTATUS carries _Must_inspect_result_
                unless it is a teardown function, and a teardown function
                does not carry it. Teardown functions are those whose name
                has one of the verbs Release, Leave, Destroy, Take,
                Dereference, Unregister (as a CamelCase word: WdkmKMutexRelease,
                WdkmSpinLockReleaseFromDpcLevel): they hand nothing out,
                change nothing when they fail, and are routinely called as
                (VOID)WdkmXxxRelease(...) on cleanup paths. Everything else
                that returns NTSTATUS (create, acquire, try, initialise,
                register, reference) either hands out something that is
                valid only on STATUS_SUCCESS or leaves a lock held, so its
                result must be looked at. Functions not returning NTSTATUS
                pass this check.
  contract      a contract comment: the block comment right above the
                declaration (only blank space between), or the nearest
                comment above it if that comment names the function (one
                comment for a group: "WdkmXxxDestroy / WdkmXxxTake - ...").
                It must name the IRQL ("IRQL" appears) and every level the
                annotations name (PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL;
                HIGH_LEVEL may be written "any").
  reference     docs/reference.md documents the function (its name appears
                there in backquotes).

Prints one line per function (PASS, or FAIL with what is wrong), then
"N passed, N failed" counting every check; writes "passed failed skipped"
to BUILD_DIR/summary (default build/annotations). Exit status 1 on any
failure. Python 3 standard library only.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEARDOWN_VERBS = ("Release", "Leave", "Destroy", "Take", "Dereference", "Unregister")
IRQL_ANNOTATION = re.compile(r"\b_IRQL_requires(?:_max|_min)?_\s*\(\s*([A-Z_]+)\s*\)")
LEVELS = ("PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL", "HIGH_LEVEL")
IGNORED_WORDS = {"WDKM_EXTERN_C_BEGIN", "WDKM_EXTERN_C_END"}


def blank(text):
    return re.sub(r"[^\n]", " ", text)


def scan_text(text):
    """Returns (code, comments): code with comments, strings and directives
    blanked (same length), comments as a list of (start, end, text)."""
    comments = []
    code = []
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            comments.append((i, end, text[i:end]))
            code.append(blank(text[i:end]))
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            comments.append((i, end, text[i:end]))
            code.append(" " * (end - i))
            i = end
        elif text[i] in "\"'":
            quote = text[i]
            j = i + 1
            while j < n and text[j] != quote and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            code.append(quote + " " * max(0, j - i - 2) + (quote if j - i >= 2 else ""))
            i = j
        else:
            code.append(text[i])
            i += 1
    code = "".join(code)
    # Preprocessor directives (with continuations) are not declarations.
    out = []
    lines = code.split("\n")
    k = 0
    while k < len(lines):
        if re.match(r"^\s*#", lines[k]):
            while lines[k].endswith("\\") and k + 1 < len(lines):
                out.append(" " * len(lines[k]))
                k += 1
            out.append(" " * len(lines[k]))
        else:
            out.append(lines[k])
        k += 1
    code = "\n".join(out)
    for word in IGNORED_WORDS:
        code = re.sub(r"\b%s\b" % word, lambda m: " " * len(m.group(0)), code)
    return code, comments


def top_level_statements(code):
    """Yields (start, end) of each top-level declaration or definition."""
    depth = 0
    start = None
    i = 0
    n = len(code)
    while i < n:
        c = code[i]
        if start is None and not c.isspace():
            start = i
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "{":
            if depth == 0 and start is not None and code[start:i].rstrip().endswith(")"):
                # A function body: the statement ends with its closing brace.
                level = 0
                while i < n:
                    if code[i] == "{":
                        level += 1
                    elif code[i] == "}":
                        level -= 1
                        if level == 0:
                            break
                    i += 1
                yield start, i + 1
                start = None
            else:
                depth += 1
        elif c == "}":
            depth -= 1
        elif c == ";" and depth == 0 and start is not None:
            yield start, i + 1
            start = None
        i += 1


def parse_function(statement):
    """(name, return type words, annotation text) of a function declaration, or None."""
    tokens = re.findall(r"[A-Za-z_]\w*|\S", statement)
    if not tokens or tokens[0] in ("typedef", "struct", "enum", "union"):
        return None
    annotations = []
    words = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if re.fullmatch(r"_[A-Z]\w*_", token):
            # An annotation, maybe with an argument list.
            text = token
            if i + 1 < len(tokens) and tokens[i + 1] == "(":
                level = 0
                j = i + 1
                while j < len(tokens):
                    text += tokens[j] if re.match(r"\w", tokens[j]) is None else " " + tokens[j]
                    if tokens[j] == "(":
                        level += 1
                    elif tokens[j] == ")":
                        level -= 1
                        if level == 0:
                            break
                    j += 1
                i = j
            annotations.append(text)
        elif token == "(":
            if words and re.fullmatch(r"[A-Za-z_]\w*", words[-1]):
                return words[-1], words[:-1], " ".join(annotations)
            return None
        elif token in ("=", "{", ";"):
            return None
        else:
            words.append(token)
        i += 1
    return None


def contract_comment(text, comments, statement_start, name):
    """The comment that documents the declaration of name at statement_start:
    the nearest comment above it if only blank space separates them, or if
    it names the function (a comment for a group of declarations)."""
    before = None
    for start, end, body in comments:
        if end <= statement_start:
            before = (start, end, body)
    if before is None:
        return None
    if text[before[1]:statement_start].strip() == "":
        return before[2]
    if re.search(r"\b%s\b" % re.escape(name), before[2]):
        return before[2]
    return None


def teardown(name):
    words = re.findall(r"[A-Z][a-z0-9]*", name)
    return any(verb in words for verb in TEARDOWN_VERBS)


def check_header(path, reference_text):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    code, comments = scan_text(text)
    results = []
    for start, end in top_level_statements(code):
        parsed = parse_function(code[start:end])
        if parsed is None:
            continue
        name, return_words, annotations = parsed
        if not name.startswith("Wdkm") or name.startswith("Wdkmp"):
            continue
        line = text.count("\n", 0, start) + 1
        comment = contract_comment(text, comments, start, name)
        problems = {}

        levels = IRQL_ANNOTATION.findall(annotations)
        if not levels:
            problems["irql"] = "no IRQL annotation (_IRQL_requires_, _IRQL_requires_max_, ...)"

        returns_status = return_words and return_words[-1] == "NTSTATUS"
        must = "_Must_inspect_result_" in annotations
        if returns_status and not teardown(name) and not must:
            problems["must-inspect"] = "returns NTSTATUS, is not a teardown function, lacks _Must_inspect_result_"
        elif returns_status and teardown(name) and must:
            problems["must-inspect"] = "a teardown function (Release/Leave/Destroy/Take/Dereference/Unregister) " \
                                       "must not be _Must_inspect_result_"

        if comment is None:
            problems["contract"] = "no contract comment (right above it, or above it naming it)"
        elif "IRQL" not in comment:
            problems["contract"] = "the contract comment does not name the IRQL"
        else:
            missing = []
            for level in sorted(set(levels)):
                if level == "HIGH_LEVEL":
                    if not re.search(r"HIGH_LEVEL|IRQL:?\s*any\b|\bany IRQL\b", comment):
                        missing.append("HIGH_LEVEL (or 'any')")
                elif level not in comment:
                    missing.append(level)
            if missing:
                problems["contract"] = "the contract comment does not name " + ", ".join(missing) + \
                                       ", which the annotations require"

        if reference_text is None:
            problems["reference"] = "docs/reference.md is missing"
        elif f"`{name}" not in reference_text:
            problems["reference"] = "not documented in docs/reference.md"

        results.append((name, os.path.relpath(path, ROOT), line, problems))
    return results


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "annotations")
    os.makedirs(out_dir, exist_ok=True)
    summary = os.path.join(out_dir, "summary")
    if os.path.exists(summary):
        os.remove(summary)
    reference_path = os.path.join(ROOT, "docs", "reference.md")
    reference_text = None
    if os.path.exists(reference_path):
        with open(reference_path, encoding="utf-8") as handle:
            reference_text = handle.read()

    checks = ("irql", "must-inspect", "contract", "reference")
    passed = failed = 0
    headers = sorted(glob.glob(os.path.join(ROOT, "include", "wdkmutex", "*.h")))
    seen = 0
    for header in headers:
        for name, where, line, problems in check_header(header, reference_text):
            seen += 1
            passed += len(checks) - len(problems)
            failed += len(problems)
            location = f"{where}:{line}"
            if problems:
                print(f"FAIL  {name:36} {location}")
                for check in checks:
                    if check in problems:
                        print(f"        {check}: {problems[check]}")
            else:
                print(f"PASS  {name:36} {location}")
    if seen == 0:
        print("FAIL  no public function found in include/wdkmutex/*.h")
        failed += 1
    with open(summary, "w") as handle:
        handle.write(f"{passed} {failed} 0\n")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
