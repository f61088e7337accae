#!/usr/bin/env python3
"""amalgamate.py - the single-file distribution of wdkmutex.

    scripts/amalgamate.py [BUILD_DIR]          writes BUILD_DIR/amalgamation/
    scripts/amalgamate.py --out DIR            writes DIR/
    scripts/amalgamate.py --line-directives    adds #line directives

Writes two files (BUILD_DIR defaults to build), laid out so that a driver
includes the library with the same spelling whichever way it takes it
(sources, CMake package or this single file): <wdkmutex/wdkmutex.h>.

  wdkmutex/wdkmutex.h
              every public header (include/wdkmutex/*.h) in dependency
              order: include/wdkmutex/wdkmutex.h's own order, each header
              inlined where it is first included, then any public header it
              does not reach;
  wdkmutex.c  WDKMP_LIBRARY_BUILD (no inline fast paths in the library
              itself), #include "wdkmutex/wdkmutex.h", then the port (port/wdkm_port.h and what
              it includes), then the library's private headers (src/*.h),
              then every library source in the order of
              WDKM_LIBRARY_SOURCES in cmake/WdkmSources.cmake.

Every #include of a project file (found beside the including file or in
include/, port/, src/) is replaced by that file's text the first time and
dropped afterwards; includes of anything else (<wdm.h>, <ntddk.h>) are kept.
Macros a .c file defines are #undef'ed after it, so that they stay private
to it as they were. Add the two files to a Visual Studio / WDK driver
project (or any build) with the output directory on the include path, and
include <wdkmutex/wdkmutex.h>; nothing else is needed.

The files are build output: regenerate them, never edit or commit them.
Exit status 0 on success, 1 on error (message on standard error).
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE_DIRS = [os.path.join(ROOT, d) for d in ("include", "port", "src")]
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
DEFINE_RE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)")


class AmalgamationError(Exception):
    pass


def rel(path):
    return os.path.relpath(path, ROOT).replace(os.sep, "/")


def read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise AmalgamationError(f"cannot read {rel(path)}: {error.strerror}")


def cmake_sources():
    """WDKM_LIBRARY_SOURCES from cmake/WdkmSources.cmake, as absolute paths.

    Understands set(NAME items...) and list(APPEND NAME items...), with
    ${CMAKE_CURRENT_LIST_DIR} and ${OTHER_LIST} references."""
    listfile = os.path.join(ROOT, "cmake", "WdkmSources.cmake")
    text = re.sub(r"#[^\n]*", "", read(listfile))
    lists = {}
    for match in re.finditer(r"\b(set|list)\s*\(([^)]*)\)", text, re.IGNORECASE):
        words = match.group(2).split()
        if match.group(1).lower() == "set" and words:
            name, items = words[0], words[1:]
            lists[name] = []
        elif match.group(1).lower() == "list" and len(words) >= 2 and words[0].upper() == "APPEND":
            name, items = words[1], words[2:]
            lists.setdefault(name, [])
        else:
            continue
        for item in items:
            item = item.strip('"')
            reference = re.fullmatch(r"\$\{(\w+)\}", item)
            if reference and reference.group(1) in lists:
                lists[name].extend(lists[reference.group(1)])
                continue
            item = item.replace("${CMAKE_CURRENT_LIST_DIR}", os.path.dirname(listfile))
            item = item.replace("${PROJECT_SOURCE_DIR}", ROOT).replace("${CMAKE_SOURCE_DIR}", ROOT)
            if "${" in item:
                raise AmalgamationError(f"cmake/WdkmSources.cmake: cannot expand {item}")
            if not os.path.isabs(item):
                item = os.path.join(os.path.dirname(listfile), item)
            lists[name].append(os.path.normpath(item))
    sources = lists.get("WDKM_LIBRARY_SOURCES")
    if not sources:
        raise AmalgamationError("cmake/WdkmSources.cmake sets no WDKM_LIBRARY_SOURCES")
    for source in sources:
        if not os.path.isfile(source):
            raise AmalgamationError(f"WDKM_LIBRARY_SOURCES names {rel(source)}, which does not exist")
    return sources


def resolve(kind, name, including_file):
    """The project file an #include names, or None for a system header."""
    candidates = []
    if kind == '"':
        candidates.append(os.path.join(os.path.dirname(including_file), name))
    candidates.extend(os.path.join(d, name) for d in INCLUDE_DIRS)
    for candidate in candidates:
        if os.path.isfile(candidate):
            return os.path.normpath(candidate)
    if kind == '"':
        raise AmalgamationError(f'{rel(including_file)}: #include "{name}" names no project file')
    return None


class Amalgamator:
    def __init__(self, line_directives):
        self.done = set()            # project files already inlined
        self.order = []              # ... in the order they were inlined
        self.line_directives = line_directives

    def expand(self, path, out, stack=()):
        """Append path's text to out, inlining project includes once."""
        path = os.path.normpath(path)
        if path in self.done:
            return
        if path in stack:
            raise AmalgamationError("include cycle: " + " -> ".join(rel(p) for p in stack + (path,)))
        self.done.add(path)
        self.order.append(path)
        out.append(f"/* ---- {rel(path)} ---- */\n")
        if self.line_directives:
            out.append(f'#line 1 "{rel(path)}"\n')
        lines = read(path).splitlines(keepends=True)
        for number, line in enumerate(lines, 1):
            match = INCLUDE_RE.match(line)
            target = resolve(match.group(1), match.group(2), path) if match else None
            if target is None:
                out.append(line if line.endswith("\n") else line + "\n")
                continue
            if target in self.done:
                out.append(f"/* #include {match.group(1)}{match.group(2)}"
                           f"{'>' if match.group(1) == '<' else chr(34)}: inlined above */\n")
            else:
                self.expand(target, out, stack + (path,))
                out.append(f"/* ---- back in {rel(path)} ---- */\n")
            if self.line_directives:
                out.append(f'#line {number + 1} "{rel(path)}"\n')


def source_macros(path):
    """Macros a .c file defines itself (not through its headers)."""
    names = []
    for line in read(path).splitlines():
        match = DEFINE_RE.match(line)
        if match and match.group(1) not in names:
            names.append(match.group(1))
    return names


def version():
    text = read(os.path.join(ROOT, "include", "wdkmutex", "wdkmutex.h"))
    match = re.search(r'#\s*define\s+WDKM_VERSION_STRING\s+"([^"]*)"', text)
    return match.group(1) if match else "unknown"


def banner(kind, contents):
    lines = [
        "/*",
        f" * {kind} - wdkmutex {version()}, single-file distribution.",
        " *",
        " * GENERATED by scripts/amalgamate.py from the wdkmutex source tree: do not",
        " * edit; regenerate it. Add wdkmutex/wdkmutex.h and wdkmutex.c to a driver",
        " * project (Visual Studio + WDK, or any kernel-mode build) with their folder",
        " * on the include path and #include <wdkmutex/wdkmutex.h> after <ntddk.h> or",
        " * <wdm.h>. Build settings (WDKM_POOL_TAG, ...) must be",
        " * the same for wdkmutex.c and every file that includes the header.",
        " *",
        " * Contents, in order:",
    ]
    lines += [f" *   {item}" for item in contents]
    lines += [" */", ""]
    return "\n".join(lines) + "\n"


def amalgamate(out_dir, line_directives):
    public_dir = os.path.join(ROOT, "include", "wdkmutex")
    public = sorted(os.path.join(public_dir, n) for n in os.listdir(public_dir) if n.endswith(".h"))
    umbrella = os.path.join(public_dir, "wdkmutex.h")
    if umbrella not in public:
        raise AmalgamationError("include/wdkmutex/wdkmutex.h is missing")

    # The header.
    header = Amalgamator(line_directives)
    body = []
    header.expand(umbrella, body)
    for path in public:
        header.expand(path, body)
    header_order = [rel(p) for p in header.order]
    header_text = (banner("wdkmutex/wdkmutex.h", header_order)
                   + "#ifndef WDKM_AMALGAMATION_H\n#define WDKM_AMALGAMATION_H\n"
                   + "#define WDKM_AMALGAMATION 1\n\n"
                   + "".join(body)
                   + "\n#endif /* WDKM_AMALGAMATION_H */\n")

    # The source: the public headers are in wdkmutex.h already.
    source = Amalgamator(line_directives)
    # What the header reached only through the inline fast paths (the
    # layout and the port) sits inside their #if, which the library's own
    # build skips: the source carries it again (include guards keep one).
    conditional = {os.path.join(ROOT, "include", "wdkmutex", name)
                   for name in ("wdkm_fastpath.h", "wdkm_layout.h")}
    port_dir = os.path.join(ROOT, "port") + os.sep
    source.done = {path for path in header.done
                   if path not in conditional and not path.startswith(port_dir)}
    # The library defines the public functions the header's inline fast
    # paths would otherwise stand in for (wdkm_config.h).
    body = ['#define WDKMP_LIBRARY_BUILD 1\n#include "wdkmutex/wdkmutex.h"\n\n']
    port_header = os.path.join(ROOT, "port", "wdkm_port.h")
    source.expand(port_header, body)
    src_dir = os.path.join(ROOT, "src")
    for name in sorted(os.listdir(src_dir)):
        if name.endswith(".h"):
            source.expand(os.path.join(src_dir, name), body)
    sources = cmake_sources()
    for path in sources:
        if path in source.done:
            raise AmalgamationError(f"{rel(path)} is both included and listed as a source")
        source.expand(path, body)
        macros = source_macros(path)
        if macros:
            body.append(f"/* ---- end of {rel(path)}: its own macros stay private to it ---- */\n")
            body.extend(f"#undef {name}\n" for name in macros)
        body.append("\n")
    contents = ["wdkmutex/wdkmutex.h (the public API)"] + [rel(p) for p in source.order]
    source_text = banner("wdkmutex.c", contents) + "".join(body)

    header_path = os.path.join("wdkmutex", "wdkmutex.h")
    os.makedirs(os.path.join(out_dir, "wdkmutex"), exist_ok=True)
    for name, text in ((header_path, header_text), ("wdkmutex.c", source_text)):
        path = os.path.join(out_dir, name)
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temporary, path)
    return [os.path.join(out_dir, header_path), os.path.join(out_dir, "wdkmutex.c")]


def main():
    parser = argparse.ArgumentParser(description="Generate wdkmutex.h + wdkmutex.c, the single-file distribution.")
    parser.add_argument("build_dir", nargs="?", default=os.path.join(ROOT, "build"),
                        help="build directory; the files go to BUILD_DIR/amalgamation (default: build)")
    parser.add_argument("--out", help="write the two files to this directory instead")
    parser.add_argument("--line-directives", action="store_true",
                        help="emit #line directives pointing into the source tree")
    args = parser.parse_args()
    out_dir = args.out or os.path.join(args.build_dir, "amalgamation")
    try:
        for path in amalgamate(os.path.abspath(out_dir), args.line_directives):
            print(path)
    except AmalgamationError as error:
        print(f"amalgamate.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
