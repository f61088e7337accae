#!/usr/bin/env python3
"""Turn raw benchmark output into bench results: latest.json, latest.md and
registry_lookup.svg (see bench/README.md).

    report.py --raw DIR --out DIR [--mode full|smoke]

DIR (raw) holds what scripts/bench.sh collected:
  *.txt                    lines printed by wdkm_bench_host / wdkm_bench_runner.exe
                           ("sample ...", "kind ...", comments)
  callgrind-<variant>/     callgrind dumps of wdkm_bench_host --callgrind

Every figure is a median over repetitions, compared with a baseline measured
in the same run. Exit status 1 if the raw output is malformed or incomplete
(a benchmark did not run); never because a target is missed.
"""
import argparse
import datetime
import glob
import json
import math
import os
import platform
import re
import subprocess
import sys

STATUS_SUCCESS = 0
STATUS_NOT_SUPPORTED = 0xC00000BB
BASE_KINDS = ("kmutex", "fast_mutex")   # every build has these
CALLGRIND_N1, CALLGRIND_N2 = 1000, 2000  # see bench/host/wdkm_bench_host.c

TARGETS = {
    "wrapper_instructions": 10.0,   # extra instructions per pair, at most
    "wrapper_time": 1.10,           # library / raw time, at most
    "fastpath_instructions": 6.0,   # library instructions over the floor's, at most
    "fastpath_time": 1.03,          # library / floor time, at most
    "registry_size": 1.3,           # time at the largest size / time at 10 names, at most
    "registry_threads": 1.7,        # lookups/s of two threads / of one, at least
    "contended": 0.95,              # library / raw throughput, at least
    "checked": 3.0,                 # checked / release time, at most
    "registry_peers": 1.0,          # registry / fastest peer time at one thread, at most
}

# The registry's peers (bench/wdkm_bench_peers.c): stream name -> peer name.
PEERS = {
    "peer_hash_spinlock": "hash_spinlock",
    "peer_sorted_eresource": "sorted_eresource",
}
PEER_NOTES = {
    "hash_spinlock": "a chained hash table (a bucket per name) under one KSPIN_LOCK, entries "
                     "allocated one by one: find, reference the entry, release; dereference",
    "sorted_eresource": "a sorted array searched by bisection under one ERESOURCE taken shared "
                        "(the thread-safe stand-in for the Rust crate's BTreeMap): the same "
                        "reference and dereference",
}
# Sizes the peer goal is judged at, one thread (the item 4).
PEER_JUDGED_SIZES = (10, 100000)


# What the floor records are (bench/README.md, "The floor").
FLOOR_NOTE = ("the raw pair with the checks every library pair makes written inline around the "
              "kernel calls (IRQL, size, owner; no call, no argument checks): the least a "
              "wrapper that keeps the library's promises costs")

# The sizes the issue names; the others are measured for the plot.
JUDGED_SIZES = (10, 1000, 100000)

# Registry streams that look names up (the others are the machine's controls).
LOOKUP_STREAMS = ("uniform", "hot")
STREAM_NOTES = {
    "control": "control: private arithmetic, no registry: how far this machine let two "
               "threads scale at that moment",
    "chase": "chase: one read per operation of a random cache line whose address is the "
             "previous read's value, in an array of one line per name, no registry: what a "
             "single cache miss costs at that size",
}


class Malformed(Exception):
    pass


# ---------------------------------------------------------------------------
# Reading


def parse_fields(line):
    fields = {}
    for token in line.split()[1:]:
        key, sep, value = token.partition("=")
        if not sep:
            raise Malformed("no key=value in %r" % line)
        fields[key] = value
    return fields


def read_samples(raw_dir):
    """{(platform, variant, name): sample}; repetitions of several rounds are pooled."""
    samples, kinds = {}, {}
    files = sorted(glob.glob(os.path.join(raw_dir, "*.txt")))
    if not files:
        raise Malformed("no benchmark output in %s" % raw_dir)
    for path in files:
        for number, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
            line = line.strip()
            where = "%s:%d" % (os.path.basename(path), number)
            if line.startswith("kind "):
                name, _, raw = line[5:].partition(" raw=")
                kinds[name.replace("name=", "").strip()] = raw.strip()
                continue
            if not line.startswith("sample "):
                continue
            try:
                f = parse_fields(line)
                key = (f["platform"], f["variant"], f["name"])
                status = int(f["status"], 16)
                frequency = int(f["frequency"])
                ops = [int(v) for v in f["ops"].split(",") if v]
                ticks = [int(v) for v in f["ticks"].split(",") if v]
                handoffs = [int(v) for v in f.get("handoffs", "").split(",") if v]
                threads = int(f["threads"])
                pinned = f.get("pinned", "0") == "1"
            except (KeyError, ValueError) as error:
                raise Malformed("%s: unreadable sample: %s" % (where, error))
            if status == STATUS_SUCCESS:
                if not ops or len(ops) != len(ticks) or frequency <= 0:
                    raise Malformed("%s: %s has %d ops and %d ticks" % (where, key, len(ops), len(ticks)))
                if min(ops) <= 0 or min(ticks) <= 0:
                    raise Malformed("%s: %s has an empty repetition" % (where, key))
            elif status != STATUS_NOT_SUPPORTED:
                raise Malformed("%s: %s failed with status 0x%08X" % (where, key, status))
            if handoffs and len(handoffs) != len(ops):
                raise Malformed("%s: %s has %d ops and %d handoffs" % (where, key, len(ops), len(handoffs)))
            entry = samples.setdefault(key, {"status": status, "threads": threads, "reps": [],
                                             "handoffs": [], "pinned": pinned})
            entry["pinned"] = entry["pinned"] and pinned
            if status != entry["status"]:
                raise Malformed("%s: %s ran in one round and not in another" % (where, key))
            entry["reps"].extend((o, t / frequency) for o, t in zip(ops, ticks))
            entry["handoffs"].extend(handoffs or [None] * len(ops))
    return samples, kinds


def callgrind_self_costs(path):
    """(trigger label, total Ir, {function: self Ir}, lines) of one callgrind dump;
    lines: the data lines fetched from beyond L1 (D1mr + D1mw), None without
    --cache-sim=yes."""
    names, costs, total, label, current, skip = {}, {}, None, None, None, False
    events, lines, positions = [], None, 1
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("positions:"):
            positions = len(line.split()[1:])
        elif line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("summary:"):
            values = [int(v) for v in line.split()[1:]]
            values += [0] * (len(events) - len(values))
            total = values[0]
            found = dict(zip(events, values))
            if "D1mr" in found and "D1mw" in found:
                lines = found["D1mr"] + found["D1mw"]
        elif line.startswith("desc: Trigger: Client Request: "):
            label = line.split("Client Request: ", 1)[1].strip()
        elif line.startswith(("fn=", "cfn=")):
            m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line)
            if m:
                if m.group(3):
                    names[m.group(2)] = m.group(3)
                if m.group(1) == "fn":
                    current = names.get(m.group(2), m.group(2))
        elif line.startswith("calls="):
            skip = True          # the next cost line is the call's inclusive cost
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            if skip:
                skip = False
            else:
                # The position(s), then the events' costs, Ir first
                # (callgrind leaves trailing zero costs out).
                fields = line.split()
                if len(fields) > positions:
                    costs[current] = costs.get(current, 0) + int(fields[positions])
    return label, total, costs, lines


def read_callgrind(raw_dir):
    """{(variant, label-without-count): per-operation {"total": Ir, "functions": {...}}
    and "lines" (data lines fetched from beyond L1) when the cache was simulated}."""
    dumps = {}
    for directory in sorted(glob.glob(os.path.join(raw_dir, "callgrind-*"))):
        variant = os.path.basename(directory).split("-", 1)[1]
        for path in glob.glob(os.path.join(directory, "cg.out.*")):
            label, total, costs, lines = callgrind_self_costs(path)
            if label is None or total is None:
                continue
            base, _, count = label.rpartition("/")
            dumps[(variant, base, int(count))] = (total, costs, lines)
    result = {}
    for (variant, base, count), (total, costs, lines) in dumps.items():
        if count != CALLGRIND_N2:
            continue
        if (variant, base, CALLGRIND_N1) not in dumps:
            raise Malformed("callgrind: %s/%s has no %d-operation dump" % (variant, base, CALLGRIND_N1))
        total1, costs1, lines1 = dumps[(variant, base, CALLGRIND_N1)]
        steps = CALLGRIND_N2 - CALLGRIND_N1
        per_op = (total - total1) / steps
        if per_op <= 0:
            raise Malformed("callgrind: %s/%s counts no instructions" % (variant, base))
        functions = {}
        for name in set(costs) | set(costs1):
            value = (costs.get(name, 0) - costs1.get(name, 0)) / steps
            if abs(value) >= 0.5:
                functions[name] = value
        result[(variant, base)] = {"total": per_op, "functions": functions}
        if lines is not None and lines1 is not None:
            # Lines per operation from beyond L1, in steady state (the
            # program warms each measured loop up first).
            result[(variant, base)]["lines"] = (lines - lines1) / steps
    return result


def read_images(raw_dir):
    """{kind: {"file", "text", "loaded", "imports": [names]}} from images/<kind>.objdump
    (objdump -h -p of the per-kind drivers, bench/image/)."""
    images = {}
    for path in sorted(glob.glob(os.path.join(raw_dir, "images", "*.objdump"))):
        kind = os.path.basename(path)[:-len(".objdump")]
        info = {"file": None, "text": 0, "loaded": 0, "imports": []}
        module, last_size = None, None
        for line in open(path, encoding="utf-8", errors="replace"):
            m = re.match(r"^# file_bytes=(\d+)", line)
            if m:
                info["file"] = int(m.group(1))
                continue
            # Section lines: "  0 .text  00002b40  vma  lma  off  2**4", then its flags.
            m = re.match(r"^\s*\d+\s+(\S+)\s+([0-9a-fA-F]{8})\s", line)
            if m:
                last_size = (m.group(1), int(m.group(2), 16))
                continue
            if last_size and "ALLOC" in line:
                name, size = last_size
                info["loaded"] += size
                if name == ".text":
                    info["text"] = size
                last_size = None
                continue
            m = re.match(r"^\s*DLL Name: (.+)$", line)
            if m:
                module = m.group(1).strip().lower()
                continue
            m = re.match(r"^\t[0-9a-fA-F]+\t +\d+ +([A-Za-z0-9_@?$]+)", line)
            if module and m:
                info["imports"].append("%s!%s" % (module, m.group(1)))
            elif module and line.strip() and not line.startswith("\t"):
                module = None
        if not info["text"] or info["file"] is None:
            raise Malformed("%s: no .text section or no file size" % path)
        images[kind] = info
    return images


def image_records(images, kinds):
    """Per kind: what a driver using only that kind pays over the raw driver."""
    records = []
    raw = images.get("raw")
    if not raw:
        return records
    order = {kind: index for index, kind in enumerate(kinds)}
    for kind in sorted((k for k in images if k != "raw"), key=lambda k: order.get(k, len(order))):
        info = images[kind]
        entry = record(
            "image.%s.size" % kind, "image", "kernel", "release", constant(info["loaded"]),
            "bytes loaded", constant(raw["loaded"]),
            "the same driver without the library (raw)",
            params={"kind": kind, "extra": info["loaded"] - raw["loaded"],
                    "text": info["text"], "text_extra": info["text"] - raw["text"],
                    "file_bytes": info["file"], "file_extra": info["file"] - raw["file"],
                    "imports": len(info["imports"]), "baseline_imports": len(raw["imports"]),
                    "import_names": sorted(set(info["imports"]) - set(raw["imports"])),
                    "tool": "objdump"},
            note="a tiny driver that uses only this kind (create, acquire, release, destroy), "
                 "built with mingw-w64 and wdkm_add_driver against the release library")
        records.append(entry)
    return records


# ---------------------------------------------------------------------------
# Statistics


def quantile(values, q):
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spread(values):
    return {"min": min(values), "p10": quantile(values, 0.10), "p25": quantile(values, 0.25),
            "median": quantile(values, 0.5), "p75": quantile(values, 0.75),
            "p90": quantile(values, 0.90), "max": max(values), "n": len(values)}


def best_figures(value_spread, baseline_spread, higher_is_better):
    """The fastest repetitions of each side: min and p10 of times (max and p90 of rates),
    and their ratios. A shared machine only ever slows a repetition down, so these are
    the figures least disturbed by it (bench/README.md, "Repetitions")."""
    keys = (("best", "max"), ("p10", "p90")) if higher_is_better else (("best", "min"), ("p10", "p10"))
    result = {}
    for name, key in keys:
        value, baseline = value_spread.get(key), baseline_spread.get(key)
        if value is None or baseline is None or not baseline:
            continue
        result[name] = {"statistic": key, "value": value, "baseline": baseline,
                        "ratio": value / baseline}
    return result


def ns_per_op(sample):
    return [seconds * 1e9 / ops for ops, seconds in sample["reps"]]


def ops_per_second(sample):
    return [ops / seconds for ops, seconds in sample["reps"]]


def handoff_figures(sample):
    """(pairs per hand-off, hand-offs per second) of the repetitions that counted them."""
    counted = [(ops, seconds, h) for (ops, seconds), h in zip(sample["reps"], sample["handoffs"]) if h]
    if not counted:
        return None
    return (quantile([ops / h for ops, _, h in counted], 0.5),
            quantile([h / seconds for _, seconds, h in counted], 0.5))


def ok(samples, key):
    sample = samples.get(key)
    return sample is not None and sample["status"] == STATUS_SUCCESS


# ---------------------------------------------------------------------------
# Records


def paired(values, baselines):
    """Per-repetition ratios: each value was measured right next to its baseline."""
    if len(values) != len(baselines):
        raise Malformed("%d repetitions against %d of the baseline" % (len(values), len(baselines)))
    return [v / b for v, b in zip(values, baselines)]


def record(name, group, platform_, variant, value_spread, unit, baseline_spread, baseline_name,
           target=None, higher_is_better=False, params=None, ratios=None, note=None):
    """ratios: per-repetition ratios; their median is the ratio (else value / baseline)."""
    value, baseline = value_spread["median"], baseline_spread["median"]
    ratio = quantile(ratios, 0.5) if ratios else value / baseline
    met = None
    if target is not None:
        met = ratio >= target if higher_is_better else ratio <= target
    entry = {
        "name": name, "group": group, "platform": platform_, "variant": variant,
        "value": value, "unit": unit, "baseline": baseline, "baseline_name": baseline_name,
        "ratio": ratio,
        "target": None if target is None else ("ratio >= %g" if higher_is_better else "ratio <= %g") % target,
        "met": met, "spread": value_spread, "baseline_spread": baseline_spread,
    }
    if ratios:
        entry["ratio_spread"] = spread(ratios)
    if value_spread["n"] > 1 and baseline_spread["n"] > 1:
        entry.update(best_figures(value_spread, baseline_spread, higher_is_better))
    if params:
        entry.update(params)
    if note:
        entry["note"] = note
    return entry


def constant(value):
    return {"min": value, "p10": value, "p25": value, "median": value, "p75": value, "p90": value,
            "max": value, "n": 1}


def build_records(samples, kinds, callgrind):
    records = []
    platforms = sorted({key[0] for key in samples})
    kind_names = []
    for (_, _, name) in samples:
        parts = name.split("/")
        if parts[0] == "wrapper" and parts[1] not in kind_names:
            kind_names.append(parts[1])
    order = {kind: index for index, kind in enumerate(kinds)}
    kind_names.sort(key=lambda kind: order.get(kind, len(order)))

    for kind in kind_names:
        raw_calls = kinds.get(kind, "raw kernel calls")
        for plat in platforms:
            judged = plat == "host"
            wrapper_ratios = {}
            for variant in ("release", "checked", "checked-holds"):
                lib, raw = (plat, variant, "wrapper/%s/library" % kind), (plat, variant, "wrapper/%s/raw" % kind)
                if ok(samples, lib) and ok(samples, raw):
                    lib_ns, raw_ns = ns_per_op(samples[lib]), ns_per_op(samples[raw])
                    wrapper_ratios[variant] = paired(lib_ns, raw_ns)
                    records.append(record(
                        "wrapper.%s.time" % kind, "wrapper", plat, variant, spread(lib_ns), "ns/pair",
                        spread(raw_ns), raw_calls,
                        TARGETS["wrapper_time"] if judged and variant == "release" else None,
                        params={"kind": kind}, ratios=wrapper_ratios[variant]))
            # The floor: the raw pair with the library's checks inline (release
            # program only; the same code in the checked one). No target of its
            # own: it shows what the wrapper targets ask against the checks.
            floor, raw = (plat, "release", "wrapper/%s/floor" % kind), (plat, "release", "wrapper/%s/raw" % kind)
            if ok(samples, floor) and ok(samples, raw):
                floor_ns, raw_ns = ns_per_op(samples[floor]), ns_per_op(samples[raw])
                records.append(record(
                    "floor.%s.time" % kind, "floor", plat, "release", spread(floor_ns), "ns/pair",
                    spread(raw_ns), raw_calls, params={"kind": kind},
                    ratios=paired(floor_ns, raw_ns), note=FLOOR_NOTE))
            lib = (plat, "release", "wrapper/%s/library" % kind)
            floor = (plat, "release", "wrapper/%s/floor" % kind)
            if ok(samples, lib) and ok(samples, floor):
                # Issue 17: the pair's time within 1.03x of the floor's.
                lib_ns, floor_ns = ns_per_op(samples[lib]), ns_per_op(samples[floor])
                records.append(record(
                    "fastpath.%s.time" % kind, "fastpath", plat, "release", spread(lib_ns),
                    "ns/pair", spread(floor_ns), "the floor (the checks alone, inline)",
                    TARGETS["fastpath_time"] if judged else None, params={"kind": kind},
                    ratios=paired(lib_ns, floor_ns)))
            floor, raw = (plat, "release", "contended/%s/floor" % kind), (plat, "release", "contended/%s/raw" % kind)
            if ok(samples, floor) and ok(samples, raw):
                floor_rate, raw_rate = ops_per_second(samples[floor]), ops_per_second(samples[raw])
                records.append(record(
                    "floor.%s.throughput" % kind, "floor", plat, "release", spread(floor_rate),
                    "pairs/s", spread(raw_rate), raw_calls + ", two threads", higher_is_better=True,
                    params={"kind": kind, "threads": 2}, ratios=paired(floor_rate, raw_rate),
                    note=FLOOR_NOTE))
            # Contended throughput (release only).
            lib, raw = (plat, "release", "contended/%s/library" % kind), (plat, "release", "contended/%s/raw" % kind)
            if ok(samples, lib) and ok(samples, raw):
                lib_rate, raw_rate = ops_per_second(samples[lib]), ops_per_second(samples[raw])
                params = {"kind": kind, "threads": 2,
                          "pinned": samples[lib]["pinned"] and samples[raw]["pinned"]}
                lib_handoffs, raw_handoffs = handoff_figures(samples[lib]), handoff_figures(samples[raw])
                if lib_handoffs and raw_handoffs:
                    params.update({
                        "pairs_per_handoff": lib_handoffs[0], "baseline_pairs_per_handoff": raw_handoffs[0],
                        "handoffs_per_second": lib_handoffs[1], "baseline_handoffs_per_second": raw_handoffs[1]})
                records.append(record(
                    "contended.%s.throughput" % kind, "contended", plat, "release", spread(lib_rate),
                    "pairs/s", spread(raw_rate), raw_calls + ", two threads",
                    TARGETS["contended"] if judged else None, higher_is_better=True,
                    params=params, ratios=paired(lib_rate, raw_rate)))
            # Checked versus release: two programs, run at different moments, so
            # each is first divided by its own raw pair (the same code in both)
            # to cancel the machine's speed at the time.
            # "checked-holds": the checked build with WDKM_DIAG_TIME_HOLDS,
            # shown next to it (no target: hold timing is opt-in).
            release = (plat, "release", "wrapper/%s/library" % kind)
            for variant, name in (("checked", "checked"), ("checked-holds", "checked_holds")):
                checked = (plat, variant, "wrapper/%s/library" % kind)
                if not (ok(samples, checked) and ok(samples, release) and
                        variant in wrapper_ratios and "release" in wrapper_ratios):
                    continue
                target = TARGETS["checked"] if judged and variant == "checked" else None
                entry = record(
                    "%s.%s.time" % (name, kind), "checked", plat, variant,
                    spread(ns_per_op(samples[checked])), "ns/pair", spread(ns_per_op(samples[release])),
                    "the same pair through the release build", target, params={"kind": kind})
                entry["ratio"] = quantile(wrapper_ratios[variant], 0.5) / quantile(wrapper_ratios["release"], 0.5)
                entry["ratio_method"] = "(checked / raw) / (release / raw), medians of per-repetition ratios"
                if entry["met"] is not None:
                    entry["met"] = entry["ratio"] <= TARGETS["checked"]
                records.append(entry)
        # Instructions (host, callgrind).
        for variant in ("release", "checked"):
            lib = callgrind.get((variant, "wrapper/%s/library" % kind))
            raw = callgrind.get((variant, "wrapper/%s/raw" % kind))
            if lib and raw:
                extra = lib["total"] - raw["total"]
                entry = record(
                    "wrapper.%s.instructions" % kind, "wrapper", "host", variant,
                    constant(lib["total"]), "instructions/pair", constant(raw["total"]), raw_calls,
                    params={"kind": kind, "extra": extra, "tool": "callgrind"})
                if variant == "release":
                    entry["target"] = "extra <= %g" % TARGETS["wrapper_instructions"]
                    entry["met"] = extra <= TARGETS["wrapper_instructions"]
                records.append(entry)
        floor = callgrind.get(("release", "wrapper/%s/floor" % kind))
        raw = callgrind.get(("release", "wrapper/%s/raw" % kind))
        lib = callgrind.get(("release", "wrapper/%s/library" % kind))
        if floor and lib:
            # Issue 17: the pair at most 6 instructions over the floor.
            over = lib["total"] - floor["total"]
            entry = record(
                "fastpath.%s.instructions" % kind, "fastpath", "host", "release",
                constant(lib["total"]), "instructions/pair", constant(floor["total"]),
                "the floor (the checks alone, inline)",
                params={"kind": kind, "extra": over, "tool": "callgrind"})
            entry["target"] = "extra over the floor <= %g" % TARGETS["fastpath_instructions"]
            entry["met"] = over <= TARGETS["fastpath_instructions"]
            records.append(entry)
        if floor and raw:
            records.append(record(
                "floor.%s.instructions" % kind, "floor", "host", "release",
                constant(floor["total"]), "instructions/pair", constant(raw["total"]), raw_calls,
                params={"kind": kind, "extra": floor["total"] - raw["total"], "tool": "callgrind"},
                note=FLOOR_NOTE))
        checked = callgrind.get(("checked", "wrapper/%s/library" % kind))
        release = callgrind.get(("release", "wrapper/%s/library" % kind))
        if checked and release:
            records.append(record(
                "checked.%s.instructions" % kind, "checked", "host", "checked",
                constant(checked["total"]), "instructions/pair", constant(release["total"]),
                "the same pair through the release build",
                params={"kind": kind, "tool": "callgrind"}))

    # The registry: sizes per platform and stream.
    for plat in platforms:
        sizes = sorted({int(name.split("/")[2]) for (p, v, name) in samples
                        if p == plat and v == "release" and name.startswith("registry/")})
        if not sizes:
            continue
        smallest, largest = sizes[0], sizes[-1]
        for stream in ("uniform", "hot", "control", "chase"):
            base = (plat, "release", "registry/%s/%d/1" % (stream, smallest))
            if not ok(samples, base):
                continue
            lookups = stream in LOOKUP_STREAMS
            for size in sizes:
                one = (plat, "release", "registry/%s/%d/1" % (stream, size))
                two = (plat, "release", "registry/%s/%d/2" % (stream, size))
                if not (ok(samples, one) and ok(samples, two)):
                    continue
                if stream != "control":
                    judged = lookups and plat == "host" and size == largest and size > smallest
                    records.append(record(
                        "registry.%s.%d.lookup" % (stream, size), "registry", plat, "release",
                        spread(ns_per_op(samples[one])), "ns/lookup" if lookups else "ns/read",
                        spread(ns_per_op(samples[base])),
                        "the same %s at %d names" % ("lookups" if lookups else "reads", smallest),
                        TARGETS["registry_size"] if judged else None,
                        params={"stream": stream, "names": size, "threads": 1},
                        note=STREAM_NOTES.get(stream)))
                two_rate, one_rate = ops_per_second(samples[two]), ops_per_second(samples[one])
                records.append(record(
                    "registry.%s.%d.two_threads" % (stream, size), "registry", plat, "release",
                    spread(two_rate), "lookups/s" if lookups else "operations/s",
                    spread(one_rate), "one thread",
                    TARGETS["registry_threads"]
                    if plat == "host" and lookups and size in JUDGED_SIZES else None,
                    higher_is_better=True, ratios=paired(two_rate, one_rate),
                    params={"stream": stream, "names": size, "threads": 2,
                            "pinned": samples[two]["pinned"] and samples[one]["pinned"]},
                    note=STREAM_NOTES.get(stream)))
        # The peers: what a driver author would write instead, the same names.
        for stream, peer in PEERS.items():
            for size in sizes:
                one = (plat, "release", "registry/%s/%d/1" % (stream, size))
                two = (plat, "release", "registry/%s/%d/2" % (stream, size))
                registry = (plat, "release", "registry/uniform/%d/1" % size)
                if not (ok(samples, one) and ok(samples, registry)):
                    continue
                params = {"stream": "uniform", "peer": peer, "names": size, "threads": 1,
                          "pinned": samples[one]["pinned"]}
                instr = callgrind.get(("release", "registry/%s/%d/1" % (stream, size)))
                if instr and plat == "host":
                    params["instructions"] = instr["total"]
                    if "lines" in instr:
                        params["lines"] = instr["lines"]
                records.append(record(
                    "registry.peer.%s.%d.time" % (peer, size), "registry_peer", plat, "release",
                    spread(ns_per_op(samples[one])), "ns/lookup",
                    spread(ns_per_op(samples[registry])),
                    "the registry, the same names (uniform), one thread", params=params,
                    note=PEER_NOTES[peer]))
                if ok(samples, two):
                    two_rate, one_rate = ops_per_second(samples[two]), ops_per_second(samples[one])
                    records.append(record(
                        "registry.peer.%s.%d.two_threads" % (peer, size), "registry_peer", plat,
                        "release", spread(two_rate), "lookups/s", spread(one_rate), "one thread",
                        higher_is_better=True, ratios=paired(two_rate, one_rate),
                        params={"stream": "uniform", "peer": peer, "names": size, "threads": 2,
                                "pinned": samples[two]["pinned"]},
                        note=PEER_NOTES[peer]))
        # The goal: at one thread the registry at least as fast as the fastest peer.
        for size in sizes:
            registry = (plat, "release", "registry/uniform/%d/1" % size)
            peers = [(quantile(ns_per_op(samples[(plat, "release", "registry/%s/%d/1" % (stream, size))]), 0.5),
                      peer, (plat, "release", "registry/%s/%d/1" % (stream, size)))
                     for stream, peer in PEERS.items()
                     if ok(samples, (plat, "release", "registry/%s/%d/1" % (stream, size)))]
            if not (peers and ok(samples, registry)):
                continue
            _, fastest, key = min(peers)
            records.append(record(
                "registry.vs_peers.%d.time" % size, "registry_peer", plat, "release",
                spread(ns_per_op(samples[registry])), "ns/lookup", spread(ns_per_op(samples[key])),
                "the fastest peer at %d names: %s" % (size, fastest),
                TARGETS["registry_peers"] if plat == "host" and size in PEER_JUDGED_SIZES else None,
                params={"stream": "uniform", "peer": fastest, "names": size, "threads": 1}))
        for stream in ("uniform", "hot"):
            base = callgrind.get(("release", "registry/%s/%d/1" % (stream, smallest)))
            for size in sizes:
                entry = callgrind.get(("release", "registry/%s/%d/1" % (stream, size)))
                if plat == "host" and base and entry:
                    params = {"stream": stream, "names": size, "threads": 1, "tool": "callgrind"}
                    if "lines" in entry:
                        params["lines"] = entry["lines"]
                    records.append(record(
                        "registry.%s.%d.instructions" % (stream, size), "registry", "host", "release",
                        constant(entry["total"]), "instructions/lookup", constant(base["total"]),
                        "the same lookups at %d names" % smallest, params=params))
    for entry in records:
        for field in ("value", "baseline", "ratio"):
            if not math.isfinite(entry[field]):
                raise Malformed("%s: %s is not a number" % (entry["name"], field))
    return records


def check_complete(samples, callgrind, records):
    """The benchmarks that must have run, whatever the kernel."""
    missing = []
    for plat in ("host", "wine"):
        for variant in ("release", "checked"):
            for kind in BASE_KINDS:
                for side in ("library", "raw", "floor"):
                    if not ok(samples, (plat, variant, "wrapper/%s/%s" % (kind, side))):
                        missing.append("%s %s wrapper/%s/%s" % (plat, variant, kind, side))
        for kind in BASE_KINDS:
            if not ok(samples, (plat, "release", "contended/%s/library" % kind)):
                missing.append("%s contended/%s" % (plat, kind))
        if not any(r["group"] == "registry" and r["platform"] == plat for r in records):
            missing.append("%s registry" % plat)
    for variant in ("release", "checked"):
        for kind in BASE_KINDS:
            for side in ("library", "raw", "floor"):
                if (variant, "wrapper/%s/%s" % (kind, side)) not in callgrind:
                    missing.append("callgrind %s wrapper/%s/%s" % (variant, kind, side))
    if missing:
        raise Malformed("missing or failed: " + ", ".join(missing))


# ---------------------------------------------------------------------------
# The machine and the tree


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def command(*args):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = command("git", "-C", root, "rev-parse", "HEAD")
    # The results of an earlier run are not a change to what is measured.
    dirty = command("git", "-C", root, "status", "--porcelain", "--untracked-files=no",
                    "--", ".", ":(exclude)bench/results")
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "loadavg_at_report": command("cat", "/proc/loadavg"),
        "compiler": command("gcc", "--version").split("\n")[0],
        "wine": command("wine", "--version").split("\n")[0],
        "valgrind": command("valgrind", "--version"),
        "commit": commit,
        "tree": "with uncommitted changes" if dirty else "clean",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ---------------------------------------------------------------------------
# Writing


def fmt(value, unit=""):
    if unit.endswith("/s"):
        if value >= 1e6:
            return "%.2f M" % (value / 1e6)
        return "%.1f k" % (value / 1e3)
    if value >= 10000:
        return "%.0f" % value
    if value >= 100:
        return "%.0f" % value
    if value >= 10:
        return "%.1f" % value
    return "%.2f" % value


def range_text(s, unit):
    return "%s (%s–%s)" % (fmt(s["median"], unit), fmt(s["min"], unit), fmt(s["max"], unit))


def ratio_value(entry):
    """The ratio to two decimals, or three when two would hide which side of its target it is."""
    limit = re.search(r"[0-9.]+$", entry["target"] or "")
    if limit and abs(entry["ratio"] - float(limit.group())) < 0.01:
        return "%.3fx" % entry["ratio"]
    return "%.2fx" % entry["ratio"]


def ratio_text(entry):
    """The ratio, with the range of the per-repetition ratios when there are some."""
    if "ratio_spread" in entry:
        r = entry["ratio_spread"]
        return "%s (%.2f–%.2f)" % (ratio_value(entry), r["min"], r["max"])
    return ratio_value(entry)


def best_text(entry):
    """The ratio at the fastest repetitions of each side: min and p10 (rates: max and p90)."""
    if "best" not in entry or "p10" not in entry:
        return ""
    return "%.2fx / %.2fx" % (entry["best"]["ratio"], entry["p10"]["ratio"])


def floor_verdict(met):
    """Whether the checks alone, inline, would meet the target."""
    return " (meets it)" if met else " (**misses it too**)"


def verdict(entry):
    if entry["met"] is None:
        return ""
    return "met" if entry["met"] else "**MISSED**"


def find(records, name, platform_, variant):
    for entry in records:
        if entry["name"] == name and entry["platform"] == platform_ and entry["variant"] == variant:
            return entry
    return None


def registry_floor(records):
    """A sentence putting the registry's size target next to one cache miss at that size."""
    sizes = sorted({e["names"] for e in records if e["platform"] == "host"
                    and e["name"].startswith("registry.chase.") and e["threads"] == 1})
    if len(sizes) < 2:
        return None
    smallest, largest = sizes[0], sizes[-1]
    chase_small = find(records, "registry.chase.%d.lookup" % smallest, "host", "release")
    chase_large = find(records, "registry.chase.%d.lookup" % largest, "host", "release")
    lookup_small = find(records, "registry.uniform.%d.lookup" % smallest, "host", "release")
    lookup_large = find(records, "registry.uniform.%d.lookup" % largest, "host", "release")
    if not (chase_small and chase_large and lookup_small and lookup_large):
        return None
    budget = (TARGETS["registry_size"] - 1) * lookup_small["value"]
    miss = chase_large["value"] - chase_small["value"]
    floor = 2 * miss
    return ("The size target against the machine's floor: at %d names the target lets a lookup "
            "take %s ns more than at %d (%.1fx of %s ns). One cache miss alone costs %s ns more "
            "there than at %d (*chase*: %s against %s ns per dependent read, one line per name). "
            "A lookup with its dereference makes at least two misses one after the other (the "
            "name's bucket or entry; then, for WdkmGrtDereference's owner check, the lock's "
            "header), and its interlocked instructions keep one lookup's misses from overlapping "
            "the next one's: at least %s ns more, %s the target's %s. Measured: %s ns more "
            "(%s against %s ns)."
            % (largest, fmt(budget), smallest, TARGETS["registry_size"], fmt(lookup_small["value"]),
               fmt(miss), smallest, fmt(chase_large["value"]), fmt(chase_small["value"]),
               fmt(floor), "above" if floor > budget else "within", fmt(budget),
               fmt(lookup_large["value"] - lookup_small["value"]), fmt(lookup_large["value"]),
               fmt(lookup_small["value"])))


def write_markdown(path, records, callgrind, info, mode, svg_name):
    out = []
    w = out.append
    w("# wdkmutex benchmark results")
    w("")
    w("Generated by `scripts/bench.sh%s` (bench/report.py); method and caveats in "
      "[bench/README.md](../README.md). Figures are medians over repetitions with the range "
      "(min–max) in brackets; every ratio compares with a baseline measured in the same run. "
      "Beside the median ratio, *min / p10*: the ratio of the two sides' fastest repetitions "
      "and of their 10th percentiles (for rates: max and 90th percentile), the figures a "
      "shared machine disturbs least. Threaded runs pin thread *i* to processor *i*."
      % (" --smoke" if mode == "smoke" else ""))
    w("")
    w("- Date: %s" % info["date"])
    w("- Machine: %s logical CPUs, %s, Linux %s (shared: other jobs ran at the same time; "
      "load at the end of the run: %s)" % (info["nproc"], info["cpu"], info["kernel"],
                                            info["loadavg_at_report"] or "?"))
    w("- Measured: commit `%s` %s" % (info["commit"][:12] or "?", info["tree"]))
    w("- Tools: %s; %s; %s" % (info["compiler"], info["wine"], info["valgrind"]))
    if mode == "smoke":
        w("- **Smoke run**: few, short repetitions and small registries: it proves the "
          "benchmarks work; its figures mean little.")
    w("")

    # Targets.
    w("## Targets")
    w("")
    w("Judged on the host build (the library on the user-mode kernel emulation). Wine "
      "figures are below for completeness but not judged: under Wine every IRQL check is an "
      "emulated CR8 read and every KMUTEX operation a wine-server call (README).")
    w("")
    w("| Target | Measured | Verdict | At min / p10 | Floor: the checks alone, inline |")
    w("|---|---|---|---|---|")
    sections = ("wrapper.instructions", "wrapper.time", "fastpath.instructions", "fastpath.time",
                "registry.lookup", "registry.two_threads",
                "registry_peer", "contended", "checked")

    def section(entry):
        measure = entry["name"].rsplit(".", 1)[1]
        key = entry["group"] + ("." + measure if entry["group"] in ("wrapper", "registry", "fastpath") else "")
        return sections.index(key) if key in sections else len(sections)

    for entry in sorted(records, key=section):
        if entry["met"] is None:
            continue
        group, kind = entry["group"], entry.get("kind", "")
        floor_text = ""
        if entry["name"].endswith(".instructions") and group == "wrapper":
            what = "wrapper %s: at most 10 extra instructions per pair" % kind
            measured = "%+.0f (%.0f vs %.0f raw)" % (entry["extra"], entry["value"], entry["baseline"])
            floor = find(records, "floor.%s.instructions" % kind, "host", "release")
            if floor:
                floor_text = "%+.0f%s" % (floor["extra"], floor_verdict(floor["extra"] <= TARGETS["wrapper_instructions"]))
        elif group == "wrapper":
            what = "wrapper %s: at most 1.10x raw time" % kind
            measured = "%s (%s vs %s ns)" % (ratio_value(entry), fmt(entry["value"]), fmt(entry["baseline"]))
            floor = find(records, "floor.%s.time" % kind, entry["platform"], "release")
            if floor:
                floor_text = "%.2fx (%s ns)%s" % (floor["ratio"], fmt(floor["value"]),
                                                 floor_verdict(floor["ratio"] <= TARGETS["wrapper_time"]))
        elif group == "fastpath" and entry["name"].endswith(".instructions"):
            what = "fast path %s: at most 6 instructions per pair over the floor" % kind
            measured = "%+.0f (%.0f vs %.0f floor)" % (entry["extra"], entry["value"], entry["baseline"])
        elif group == "fastpath":
            what = "fast path %s: at most 1.03x the floor's time" % kind
            measured = "%s (%s vs %s ns)" % (ratio_value(entry), fmt(entry["value"]), fmt(entry["baseline"]))
        elif group == "contended":
            what = "contended %s: at least 0.95x raw throughput" % kind
            measured = ratio_value(entry)
            floor = find(records, "floor.%s.throughput" % kind, entry["platform"], "release")
            if floor:
                floor_text = "%.2fx%s" % (floor["ratio"], floor_verdict(floor["ratio"] >= TARGETS["contended"]))
        elif group == "registry_peer":
            what = ("registry vs peers (%d names): one thread at least as fast as the fastest peer"
                    % entry["names"])
            measured = "%s (%s vs %s ns, %s)" % (ratio_value(entry), fmt(entry["value"]),
                                                fmt(entry["baseline"]), entry["peer"])
        elif group == "checked":
            what = "checked %s: at most 3x release time" % kind
            measured = "%s (%s vs %s ns)" % (ratio_value(entry), fmt(entry["value"]), fmt(entry["baseline"]))
        elif entry["threads"] == 1:
            what = "registry (%s names): %d names at most 1.3x the time at 10" % (entry["stream"], entry["names"])
            measured = "%s (%s vs %s ns)" % (ratio_value(entry), fmt(entry["value"]), fmt(entry["baseline"]))
        else:
            control = find(records, "registry.control.%d.two_threads" % entry["names"], entry["platform"], "release")
            what = "registry (%s names, %d): two threads at least 1.7x one" % (entry["stream"], entry["names"])
            measured = "%s%s" % (ratio_value(entry), " (machine control: %.2fx)" % control["ratio"] if control else "")
        w("| %s | %s | %s | %s | %s |" % (what, measured, verdict(entry), best_text(entry), floor_text))
    w("")
    floor = registry_floor(records)
    if floor:
        w(floor)
        w("")
    w("*Floor*: the raw pair with the checks every library pair makes (IRQL, data size, owner) "
      "written inline around the kernel calls, with no call and no argument checks, measured in "
      "the same run: the least any wrapper keeping the library's promises costs. Where the floor "
      "itself misses a target, the target asks for less than the checks do. Why, and what is "
      "left between the floor and the library: bench/README.md, \"Targets below the floor\".")
    w("")

    # 1. Wrapper.
    w("## 1. Wrapper overhead: uncontended acquire + release")
    w("")
    w("Library pair (acquire with its checks, increment the protected value, release) versus "
      "the raw kernel calls on the same primitive (the same increment). Time in ns per pair; "
      "the ratio is the median of the per-repetition ratios (library and raw measured back to "
      "back), with their range; instructions per pair counted by callgrind (host, exact).")
    w("")
    w("| Kind | Platform | Variant | Library ns | Raw ns | Ratio | At min / p10 | Library instr. | Raw instr. | Extra instr. |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for entry in records:
        if entry["group"] != "wrapper" or not entry["name"].endswith(".time"):
            continue
        instr = find(records, "wrapper.%s.instructions" % entry["kind"], "host", entry["variant"]) \
            if entry["platform"] == "host" else None
        w("| %s | %s | %s | %s | %s | %s %s | %s | %s | %s | %s |" % (
            entry["kind"], entry["platform"], entry["variant"], range_text(entry["spread"], ""),
            range_text(entry["baseline_spread"], ""), ratio_text(entry), verdict(entry), best_text(entry),
            "%.0f" % instr["value"] if instr else "", "%.0f" % instr["baseline"] if instr else "",
            "%+.0f %s" % (instr["extra"], verdict(instr)) if instr else ""))
        floor = find(records, "floor.%s.time" % entry["kind"], entry["platform"], "release") \
            if entry["variant"] == "release" else None
        floor_instr = find(records, "floor.%s.instructions" % entry["kind"], "host", "release") \
            if floor and entry["platform"] == "host" else None
        if floor:
            w("| %s | %s | floor | %s | %s | %s | %s | %s | %s | %s |" % (
                entry["kind"], entry["platform"], range_text(floor["spread"], ""),
                range_text(floor["baseline_spread"], ""), ratio_text(floor), best_text(floor),
                "%.0f" % floor_instr["value"] if floor_instr else "",
                "%.0f" % floor_instr["baseline"] if floor_instr else "",
                "%+.0f" % floor_instr["extra"] if floor_instr else ""))
    w("")
    w("Rows *floor*: the raw pair with the library's checks inline (above), in the release "
      "program, against the same raw pair.")
    w("")

    # 2. Registry.
    w("## 2. Registry lookup: WdkmGrtReference + WdkmGrtDereference")
    w("")
    w("Names are registered FAST_MUTEX locks. *uniform*: every registered name, in a shuffled "
      "order of each thread's own (the working set grows with the registry); *hot*: the same "
      "10 names, spread over the table, looked up by every thread (the working set stays "
      "small; two threads share the entries); *control*: private arithmetic on each thread, no "
      "registry, to show how far the machine let two threads scale at that moment; *chase*: no "
      "registry either, one dependent read of a random cache line per operation in an array "
      "of one line (64 bytes) per name, to show what a single cache miss costs at that size "
      "(its ns are per read).")
    w("")
    w("![lookup time against the number of names](%s)" % svg_name)
    w("")
    w("| Platform | Stream | Names | ns/lookup, 1 thread | vs 10 names | instr./lookup | 1 thread /s | 2 threads /s | 2 vs 1 |")
    w("|---|---|---|---|---|---|---|---|---|")
    for entry in records:
        if entry["group"] != "registry" or entry["threads"] != 2:
            continue
        plat, stream, size = entry["platform"], entry["stream"], entry["names"]
        one = find(records, "registry.%s.%d.lookup" % (stream, size), plat, "release")
        instr = find(records, "registry.%s.%d.instructions" % (stream, size), plat, "release")
        w("| %s | %s | %d | %s | %s | %s | %s | %s | %s %s |" % (
            plat, stream, size, range_text(one["spread"], "") if one else "",
            "%s %s" % (ratio_value(one), verdict(one)) if one else "",
            "%.0f" % instr["value"] if instr else "",
            fmt(entry["baseline"], "/s"), fmt(entry["value"], "/s"), ratio_text(entry), verdict(entry)))
    w("")

    # 2b. Peers.
    peer_rows = [e for e in records if e["name"].startswith("registry.vs_peers.")]
    if peer_rows:
        w("## 2b. The registry beside what a driver author would write")
        w("")
        w("The same names (the *uniform* stream) looked up in two tables written from the kernel's "
          "primitives alone (bench/wdkm_bench_peers.c), in the same run: *hash_spinlock*, %s; "
          "*sorted_eresource*, %s. Each lookup finds the entry and takes a reference, then drops "
          "it, as WdkmGrtReference + WdkmGrtDereference do. ns per lookup, one thread, median "
          "(min–max); the goal: the registry at least as fast as the fastest peer at 10 and "
          "100,000 names, and its own two-thread scaling at least 1.7x (section 2)."
          % (PEER_NOTES["hash_spinlock"], PEER_NOTES["sorted_eresource"]))
        w("")
        w("| Platform | Names | Registry ns | hash_spinlock ns | sorted_eresource ns | Registry / fastest peer | At min / p10 | instr./lookup registry / hash / sorted | lines/lookup registry / hash / sorted | 2 vs 1 registry / hash / sorted |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for entry in peer_rows:
            plat, size = entry["platform"], entry["names"]
            cells = []
            for peer in ("hash_spinlock", "sorted_eresource"):
                one = find(records, "registry.peer.%s.%d.time" % (peer, size), plat, "release")
                cells.append(range_text(one["spread"], "") if one else "")
            instrs, lines, scaling = [], [], []
            reg_instr = find(records, "registry.uniform.%d.instructions" % size, plat, "release")
            instrs.append("%.0f" % reg_instr["value"] if reg_instr else "–")
            lines.append("%.2f" % reg_instr["lines"] if reg_instr and "lines" in reg_instr else "–")
            reg_two = find(records, "registry.uniform.%d.two_threads" % size, plat, "release")
            scaling.append("%.2fx" % reg_two["ratio"] if reg_two else "–")
            for peer in ("hash_spinlock", "sorted_eresource"):
                one = find(records, "registry.peer.%s.%d.time" % (peer, size), plat, "release")
                instrs.append("%.0f" % one["instructions"] if one and "instructions" in one else "–")
                lines.append("%.2f" % one["lines"] if one and "lines" in one else "–")
                two = find(records, "registry.peer.%s.%d.two_threads" % (peer, size), plat, "release")
                scaling.append("%.2fx" % two["ratio"] if two else "–")
            w("| %s | %d | %s | %s | %s | %s %s (%s) | %s | %s | %s | %s |" % (
                plat, size, range_text(entry["spread"], ""), cells[0], cells[1],
                ratio_value(entry), verdict(entry), entry["peer"], best_text(entry),
                " / ".join(instrs), " / ".join(lines), " / ".join(scaling)))
        w("")
        w("*lines/lookup*: data cache lines a lookup fetches from beyond L1, from callgrind's "
          "cache simulation (a 32 KB 8-way L1 and a 32 MB 16-way last level, fixed so that the "
          "figures do not depend on the machine) after two full passes of the stream, so "
          "exact and free of the machine's noise: at sizes past the caches every line is a "
          "miss the time pays. bench/README.md \"Registry peers\" says what each line is.")
        w("")

    # 3. Contended.
    w("## 3. Contended: two threads on one lock")
    w("")
    w("Both threads acquire, increment, release in a loop for a fixed window; throughput in "
      "pairs per second of both together (the protected counter is checked exact). Throughput is "
      "hand-offs per second (the lock passing from one thread to the other) times the pairs a "
      "thread makes between two hand-offs; both are shown, medians (bench/README.md, "
      "\"Contended throughput\").")
    w("")
    w("| Kind | Platform | Library pairs/s | Raw pairs/s | Ratio | At max / p90 | Pinned | Hand-offs/s library / raw "
      "| Pairs per hand-off library / raw |")
    w("|---|---|---|---|---|---|---|---|---|")
    for entry in records:
        if entry["group"] == "contended":
            if "pairs_per_handoff" in entry:
                handoffs = "%s / %s | %.1f / %.1f" % (
                    fmt(entry["handoffs_per_second"], "/s"), fmt(entry["baseline_handoffs_per_second"], "/s"),
                    entry["pairs_per_handoff"], entry["baseline_pairs_per_handoff"])
            else:
                handoffs = " | "
            w("| %s | %s | %s | %s | %s %s | %s | %s | %s |" % (
                entry["kind"], entry["platform"], range_text(entry["spread"], "/s"),
                range_text(entry["baseline_spread"], "/s"), ratio_text(entry), verdict(entry),
                best_text(entry), "yes" if entry.get("pinned") else "no", handoffs))
            floor = find(records, "floor.%s.throughput" % entry["kind"], entry["platform"], "release")
            if floor:
                w("| %s (floor) | %s | %s | %s | %s | %s | | | |" % (
                    entry["kind"], entry["platform"], range_text(floor["spread"], "/s"),
                    range_text(floor["baseline_spread"], "/s"), ratio_text(floor), best_text(floor)))
    w("")

    # 4. Checked.
    w("## 4. Checked build versus release build: uncontended pair")
    w("")
    w("The checked build is the library compiled with `-DWDKM_CHECKED=1`. The two builds are two "
      "programs run at different moments of a shared machine, so the ratio is "
      "(checked / raw) / (release / raw): each build's pairs divided by the raw pairs measured "
      "next to them (the same code in both programs), which cancels the machine's speed at the time. "
      "Rows marked *hold timing on* are the checked build with `WDKM_DIAG_TIME_HOLDS` in its policy "
      "(opt-in, no target): what measuring every hold's length adds.")
    w("")
    w("| Kind | Platform | Checked ns | Release ns | Ratio | Checked instr. | Release instr. |")
    w("|---|---|---|---|---|---|---|")
    for entry in records:
        if entry["group"] == "checked" and entry["name"].endswith(".time"):
            instr = find(records, "checked.%s.instructions" % entry["kind"], "host", "checked") \
                if entry["platform"] == "host" and entry["variant"] == "checked" else None
            w("| %s | %s | %s | %s | %.2fx %s | %s | %s |" % (
                entry["kind"] + (" (hold timing on)" if entry["variant"] == "checked-holds" else ""),
                entry["platform"], range_text(entry["spread"], ""),
                range_text(entry["baseline_spread"], ""), entry["ratio"], verdict(entry),
                "%.0f" % instr["value"] if instr else "", "%.0f" % instr["baseline"] if instr else ""))
    w("")

    # 5. Image cost.
    image_rows = [e for e in records if e["group"] == "image"]
    if image_rows:
        w("## 5. What a kind costs in the image")
        w("")
        w("A tiny driver per kind that uses only that kind (create, acquire, touch the value, "
          "release, destroy: bench/image/), built with mingw-w64 and `wdkm_add_driver` against "
          "the release library, against the same driver without the library (*raw*: %s bytes "
          "loaded, .text %s, %d imports). *Loaded*: the sum of the sections the loader maps; "
          "*imports*: functions the image imports from ntoskrnl.exe and hal.dll. What a driver "
          "pays is the difference; kinds that pull in the others' code show it here."
          % ("{:,}".format(image_rows[0]["baseline"]),
             "{:,}".format(image_rows[0]["text"] - image_rows[0]["text_extra"]),
             image_rows[0]["baseline_imports"]))
        w("")
        w("| Kind | Loaded bytes | Over raw | .text | .text over raw | File bytes | Imports | Imports over raw |")
        w("|---|---|---|---|---|---|---|---|")
        for entry in image_rows:
            w("| %s | %s | %s | %s | %s | %s | %d | %+d |" % (
                entry["kind"], "{:,}".format(int(entry["value"])), "{:+,}".format(int(entry["extra"])),
                "{:,}".format(entry["text"]), "{:+,}".format(entry["text_extra"]),
                "{:,}".format(entry["file_bytes"]), entry["imports"],
                entry["imports"] - entry["baseline_imports"]))
        w("")

    # Where the instructions go.
    w("## Where the wrapper's instructions go (callgrind, host release)")
    w("")
    w("Self instructions per pair of each function, library loop minus raw loop (functions "
      "whose count differs by at least one). The emulated kernel's own functions appear when "
      "the library calls them more often than the raw loop does.")
    w("")
    for (variant, label), lib in sorted(callgrind.items()):
        if variant != "release" or not label.startswith("wrapper/") or not label.endswith("/library"):
            continue
        kind = label.split("/")[1]
        raw = callgrind.get((variant, "wrapper/%s/raw" % kind))
        if not raw:
            continue
        rows = []
        for name in set(lib["functions"]) | set(raw["functions"]):
            delta = lib["functions"].get(name, 0) - raw["functions"].get(name, 0)
            if abs(delta) >= 1:
                rows.append((delta, name))
        rows.sort(reverse=True)
        w("- **%s**: %+.0f per pair: %s" % (kind, lib["total"] - raw["total"], ", ".join(
            "`%s` %+.0f" % (name, delta) for delta, name in rows)))
    w("")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(out))


def write_svg(path, records):
    """Lookup time (one thread) against the number of names, host, log-log."""
    series = []
    for stream, colour in (("uniform", "#1f77b4"), ("hot", "#d62728"), ("chase", "#7f7f7f")):
        points = sorted((e["names"], e["spread"]) for e in records
                        if e["platform"] == "host" and e["name"] == "registry.%s.%d.lookup" % (stream, e.get("names", 0)))
        if points:
            series.append((stream, colour, points, points[0][1]["median"]))
    if not series:
        raise Malformed("no host registry figures to plot")
    width, height, left, right, top, bottom = 680, 420, 70, 170, 40, 60
    sizes = sorted({size for _, _, points, _ in series for size, _ in points})
    values = [v for _, _, points, base in series for _, s in points for v in (s["min"], s["max"])]
    values += [base * TARGETS["registry_size"] for stream, _, _, base in series
               if stream in LOOKUP_STREAMS]
    ylo = 10 ** math.floor(math.log10(min(values)))
    yhi = 10 ** math.ceil(math.log10(max(values)))
    xlo, xhi = math.log10(min(sizes)), math.log10(max(sizes))
    if xhi == xlo:
        xhi = xlo + 1

    def x(size):
        return left + (math.log10(size) - xlo) / (xhi - xlo) * (width - left - right)

    def y(value):
        return top + (1 - (math.log10(value) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo))) * (height - top - bottom)

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'font-family="sans-serif" font-size="12">' % (width, height),
             '<rect width="100%" height="100%" fill="white"/>',
             '<text x="%d" y="22" font-size="14">Registry lookup (WdkmGrtReference + '
             'WdkmGrtDereference), host, one thread</text>' % left]
    decade = ylo
    while decade <= yhi * 1.001:
        for multiple in (1, 2, 5):
            tick = decade * multiple
            if ylo <= tick <= yhi * 1.001:
                parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>'
                             % (left, y(tick), width - right, y(tick)))
                parts.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (left - 6, y(tick) + 4, tick))
        decade *= 10
    parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="black"/>' % (left, y(ylo), width - right, y(ylo)))
    parts.append('<line x1="%d" y1="%d" x2="%d" y2="%.1f" stroke="black"/>' % (left, top, left, y(ylo)))
    for size in sizes:
        parts.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>' % (x(size), y(ylo), x(size), y(ylo) + 5))
        parts.append('<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>' % (x(size), y(ylo) + 18, "{:,}".format(size)))
    parts.append('<text x="%d" y="%d" text-anchor="middle">names registered (log scale)</text>'
                 % ((left + width - right) / 2, height - 15))
    parts.append('<text x="18" y="%d" transform="rotate(-90 18 %d)" text-anchor="middle">ns per lookup, '
                 'log scale (median; bars: min–max)</text>' % ((top + height - bottom) / 2, (top + height - bottom) / 2))
    legend_y = top + 10
    for stream, colour, points, base in series:
        path_d = " ".join("%s%.1f,%.1f" % ("M" if i == 0 else "L", x(size), y(s["median"]))
                          for i, (size, s) in enumerate(points))
        parts.append('<path d="%s" fill="none" stroke="%s" stroke-width="2"/>' % (path_d, colour))
        for size, s in points:
            parts.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>'
                         % (x(size), y(s["min"]), x(size), y(s["max"]), colour))
            parts.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (x(size), y(s["median"]), colour))
        if stream in LOOKUP_STREAMS:
            limit = base * TARGETS["registry_size"]
            parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-dasharray="5,4"/>'
                         % (left, y(limit), width - right, y(limit), colour))
        parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>'
                     % (width - right + 10, legend_y, width - right + 30, legend_y, colour))
        if stream in LOOKUP_STREAMS:
            parts.append('<text x="%d" y="%d">%s names</text>' % (width - right + 35, legend_y + 4, stream))
        else:
            parts.append('<text x="%d" y="%d">one cache miss</text>' % (width - right + 35, legend_y + 4))
            parts.append('<text x="%d" y="%d">(chase, ns/read)</text>' % (width - right + 35, legend_y + 18))
            legend_y += 14
        legend_y += 20
    parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="gray" stroke-dasharray="5,4"/>'
                 % (width - right + 10, legend_y, width - right + 30, legend_y))
    parts.append('<text x="%d" y="%d">target: 1.3x the</text>' % (width - right + 35, legend_y + 4))
    parts.append('<text x="%d" y="%d">time at 10 names</text>' % (width - right + 35, legend_y + 18))
    parts.append("</svg>")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--raw", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--mode", choices=("full", "smoke"), default="full")
    args = parser.parse_args()
    try:
        samples, kinds = read_samples(args.raw)
        callgrind = read_callgrind(args.raw)
        records = build_records(samples, kinds, callgrind)
        records += image_records(read_images(args.raw), list(kinds))
        check_complete(samples, callgrind, records)
        info = machine()
        os.makedirs(args.out, exist_ok=True)
        svg_name = "registry_lookup.svg"
        write_svg(os.path.join(args.out, svg_name), records)
        write_markdown(os.path.join(args.out, "latest.md"), records, callgrind, info, args.mode, svg_name)
        skipped = sorted({"%s %s: %s" % (key[0], key[1], key[2]) for key, s in samples.items()
                          if s["status"] == STATUS_NOT_SUPPORTED})
        document = {
            "schema": 1, "mode": args.mode, "machine": info, "targets": TARGETS,
            "not_supported": skipped, "records": records,
        }
        with open(os.path.join(args.out, "latest.json"), "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1, sort_keys=False)
            handle.write("\n")
    except Malformed as error:
        print("report: malformed benchmark output: %s" % error, file=sys.stderr)
        return 1
    missed = sum(1 for r in records if r["met"] is False)
    judged = sum(1 for r in records if r["met"] is not None)
    print("report: %d records, %d targets judged, %d met, %d missed -> %s"
          % (len(records), judged, judged - missed, missed, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
