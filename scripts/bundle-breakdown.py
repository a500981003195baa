#!/usr/bin/env python3
"""Where the wasm bundle's code goes, by crate, after wasm-opt.

Usage: make bundle-breakdown [TOP=N] (builds a copy of the release wasm that
keeps its function names, then runs this on it), or
    bundle-breakdown.py NAMED.wasm [TOP]
to print the part table and the TOP largest functions.

Each function is counted under the first known crate its name mentions
(wasm-bindgen demangles rustc's v0 symbols to `crate[hash]::path`), so
generic code instantiated for our types (a derived `Deserialize`, a
component's view closures) counts as ours. Unnamed functions (wasm-bindgen's
shims) count under wasm-bindgen. Why not twiggy: ARCHITECTURE.md, Decisions.
"""
import re
import sys
from collections import Counter

PARTS = {
    "the app (src/)": ["confab"],
    "the functional core (core/)": ["confab_core"],
    "Leptos": ["tachys", "reactive_graph", "leptos", "leptos_dom", "indexmap",
               "hashbrown", "slotmap", "send_wrapper", "guardian", "throw_error",
               "any_spawner", "or_poisoned", "oco_ref", "either_of"],
    "Rust's core, alloc, std, dlmalloc": ["core", "alloc", "std", "dlmalloc"],
    "serde_json and serde": ["serde_json", "serde_core", "serde", "itoa", "zmij"],
    "pulldown-cmark, unicase, memchr": ["pulldown_cmark", "unicase", "memchr"],
    "miniz_oxide": ["miniz_oxide"],
}
CRATE = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(
    sorted((c for cs in PARTS.values() for c in cs), key=len, reverse=True)) + r")(?:\[[0-9a-f]+\])?::")


def leb(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def functions(path):
    """(name, body size) of every defined function in the module."""
    data = open(path, "rb").read()
    at, imported, sizes, names, data_size = 8, 0, [], {}, 0
    while at < len(data):
        section = data[at]
        size, at = leb(data, at + 1)
        end = at + size
        if section == 2:  # imports: functions among them shift the indices
            count, q = leb(data, at)
            for _ in range(count):
                for _ in range(2):
                    length, q = leb(data, q)
                    q += length
                kind = data[q]
                q += 1
                if kind == 0:
                    _, q = leb(data, q)
                    imported += 1
                elif kind in (1, 2):
                    if kind == 1:
                        q += 1
                    flags, q = leb(data, q)
                    _, q = leb(data, q)
                    if flags & 1:
                        _, q = leb(data, q)
                elif kind == 3:
                    q += 2
        elif section == 10:
            count, q = leb(data, at)
            for _ in range(count):
                length, q = leb(data, q)
                sizes.append(length)
                q += length
        elif section == 11:
            data_size += size
        elif section == 0:
            length, q = leb(data, at)
            if data[q:q + length] == b"name":
                q += length
                while q < end:
                    kind = data[q]
                    sub_size, q = leb(data, q + 1)
                    if kind == 1:
                        count, r = leb(data, q)
                        for _ in range(count):
                            index, r = leb(data, r)
                            length, r = leb(data, r)
                            names[index] = data[r:r + length].decode("utf8", "replace")
                            r += length
                    q += sub_size
        at = end
    named = [(names.get(i + imported, "?"), s) for i, s in enumerate(sizes)]
    return named, data_size


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    named, data_size = functions(sys.argv[1])
    if not any(name != "?" for name, _ in named):
        sys.exit("no function names: build with `wasm-opt -g` (make bundle-breakdown)")
    part_of = {crate: part for part, crates in PARTS.items() for crate in crates}
    totals = Counter()
    for name, size in named:
        match = CRATE.search(name)
        totals[part_of[match.group(1)] if match else "wasm-bindgen, js-sys, gloo, shims"] += size
    code = sum(totals.values())
    print(f"code {code:,} bytes, data {data_size:,} bytes (after wasm-opt, before gzip)")
    print(f"{'part':<40} {'KB':>6} {'share':>6}")
    for part, size in totals.most_common():
        print(f"{part:<40} {size / 1000:>6.0f} {100 * size / code:>5.1f}%")
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if top:
        print(f"\nlargest {top} functions:")
        for name, size in sorted(named, key=lambda f: -f[1])[:top]:
            print(f"{size:>8,} {name[:150]}")


if __name__ == "__main__":
    main()
