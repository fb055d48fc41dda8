#!/usr/bin/env python3
"""The library's layers hold: a layer can neither include nor call a layer
above it (docs/ARCHITECTURE.md).

  test_layers.py SOURCE_DIR BUILD_DIR

It reads each layer's real compiler flags from BUILD_DIR's
compile_commands.json and its objects from BUILD_DIR's OBJECT library
folders (CMakeFiles/wf_<layer>.dir).

Checks, for every layer:
  1. each header of every layer it may not use fails to compile when
     included with the layer's own include directories (and, as a control,
     a header of each layer it may use compiles);
  2. no symbol its objects leave undefined is defined by a layer above it;
then prints the circles of files that call each other that remain (all
inside one layer: the second check forbids any other).
"""
import collections
import glob
import json
import os
import shlex
import subprocess
import sys
import tempfile

# What each layer may use, directly or not.
USES = {
    "util": set(),
    "json": {"util"},
    "expr": {"json", "util"},
    "asl": {"expr", "json", "util"},
    "runtime": {"util"},
    "store": {"json", "util"},
    "objstore": {"json", "util"},
    "engine": {"asl", "expr", "json", "util", "runtime", "store",
               "objstore"},
    "plugin": {"engine", "asl", "expr", "json", "util", "runtime", "store",
               "objstore"},
    "integration": {"engine", "asl", "expr", "json", "util", "runtime",
                    "store", "objstore"},
}


def load(source_dir, build_dir):
    """Each layer's folder, compiler, include directories and objects."""
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        commands = json.load(f)
    layers = {}
    for name in USES:
        src = os.path.join(source_dir, "libworkflow", name)
        for c in commands:
            if os.path.dirname(os.path.realpath(c["file"])) != os.path.realpath(src):
                continue
            argv = c.get("arguments") or shlex.split(c["command"])
            incs = []
            for i, a in enumerate(argv):
                if a == "-I":
                    incs.append(argv[i + 1])
                elif a.startswith("-I"):
                    incs.append(a[2:])
            objs = glob.glob(os.path.join(build_dir, "CMakeFiles",
                                          "wf_%s.dir" % name, "**", "*.o"),
                             recursive=True)
            layers[name] = {"src": src, "cc": argv[0], "incs": incs,
                            "objs": sorted(objs)}
            break
    return layers


def compiles(cc, incs, header, workdir):
    probe = os.path.join(workdir, "probe.c")
    with open(probe, "w") as f:
        f.write('#include "%s"\nint wf_probe(void);\nint wf_probe(void) { return 0; }\n'
                % header)
    cmd = [cc, "-std=c11", "-D_GNU_SOURCE", "-fsyntax-only"]
    cmd += ["-I" + d for d in incs] + [probe]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRC":
            defined.add(parts[2])
        elif len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
    return defined, undefined


def circles(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    layers = load(sys.argv[1], sys.argv[2])
    failures = []
    missing = set(USES) - set(layers)
    if missing:
        failures.append("layers not built: %s" % ", ".join(sorted(missing)))

    # 1. Includes.
    with tempfile.TemporaryDirectory() as tmp:
        for name, layer in sorted(layers.items()):
            for other, olayer in sorted(layers.items()):
                if other == name:
                    continue
                headers = sorted(glob.glob(os.path.join(olayer["src"], "*.h")))
                if not headers:
                    continue
                allowed = other in USES[name]
                for h in headers if not allowed else headers[:1]:
                    ok, err = compiles(layer["cc"], layer["incs"],
                                       os.path.basename(h), tmp)
                    if allowed and not ok:
                        failures.append("%s cannot include %s's %s:\n%s" %
                                        (name, other, os.path.basename(h), err))
                    elif not allowed and ok:
                        failures.append("%s can include %s's %s" %
                                        (name, other, os.path.basename(h)))
        print("includes: each layer sees only the layers it uses")

    # 2. Calls, from the objects' symbol tables.
    defs, undefs, layer_of = {}, {}, {}
    for name, layer in layers.items():
        for obj in layer["objs"]:
            f = os.path.basename(obj).split(".")[0]
            key = "%s/%s" % (name, f)
            defs[key], undefs[key] = symbols(obj)
            layer_of[key] = name
    owner = {s: k for k, d in defs.items() for s in d}
    graph = collections.defaultdict(set)
    for k, und in undefs.items():
        graph[k]
        for s in und:
            o = owner.get(s)
            if not o or o == k:
                continue
            graph[k].add(o)
            if layer_of[o] != layer_of[k] and layer_of[o] not in USES[layer_of[k]]:
                failures.append("%s calls %s, defined in %s above it" %
                                (k, s, o))
    print("calls: %d files, none calls a layer above its own" % len(defs))
    for c in circles(graph):
        print("circle inside %s: %s" % (layer_of[c[0]], " ".join(c)))

    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
