#!/usr/bin/env python3
"""Durable seed workflow executions/s on one machine, side by side in one
run: the in-memory engine, SQLite, PostgreSQL with one writer, and 1, 2
and 4 worker processes sharing one PostgreSQL store (wf-bench --workers).
PostgreSQL is a throwaway server (tests/pg_server.sh, fsync on) on a Unix
socket; for each run the CPU seconds of its processes and of the workers
are measured, and the database's share of the CPU both used.

  bench/share_bench.py [--build build-rel] [--workload seed-workflow-conc]
                       [--executions N] [--runs N] [--dmap ITEMS]

Each configuration runs --runs times (default 3) and the median is shown.
--dmap ITEMS runs instead one Distributed Map of ITEMS items whose STANDARD
children each run one Task (answered at once by the manifest's
ProcessData handler), written as a workload of its own: with shared
workers its children are spread over them in shares (map_shard.c).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def postgres_cpu(postmaster):
    """CPU seconds the server has used: the postmaster's own, its ended
    children's (cutime, cstime: backends come and go) and its live
    children's."""
    rest = stat(postmaster)
    total = sum(int(rest[i]) for i in (11, 12, 13, 14))
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            rest = stat(pid)
            if int(rest[1]) == postmaster:  # ppid
                total += int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / TICK


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(bench, workloads, workload, executions, args, postmaster):
    cmd = [bench, workloads, workload, "--history"] + args
    if executions:
        cmd += ["--executions", str(executions)]
    pg0, me0 = postgres_cpu(postmaster), children_cpu()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    line = json.loads(out.stdout.strip().splitlines()[-1])
    pg, me = postgres_cpu(postmaster) - pg0, children_cpu() - me0
    if not line["ok"]:
        sys.exit(f"{' '.join(cmd)}: checks failed: {line}")
    return line["per_second"], line["seconds"], pg, me


def dmap_workload(tmp, items):
    """A workloads directory holding one workload, "dmap"."""
    d = os.path.join(tmp, "dmap")
    os.makedirs(d)
    fn = "arn:aws:lambda:us-east-1:123456789012:function:ProcessData"
    definition = {
        "StartAt": "Spread",
        "States": {"Spread": {
            "Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.results",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED",
                                    "ExecutionType": "STANDARD"},
                "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": fn,
                                    "End": True}}},
            "End": True}}}
    inp = {"items": [{"id": i, "records": [i]} for i in range(items)]}
    manifest = {"workloads": {"dmap": {
        "definition": "dmap.asl.json", "input": "dmap.input.json",
        "mode": "sequential", "warmup": 0, "executions": 1, "unit": "items",
        "units_per_execution": items,
        "transitions_per_execution": 2 * items + 1,
        "checks": [{"path": "$.results", "length": items},
                   {"path": f"$.results[{items - 1}].recordsProcessed",
                    "equals": 1}]}}}
    for name, doc in (("dmap.asl.json", definition),
                      ("dmap.input.json", inp), ("manifest.json", manifest)):
        with open(os.path.join(d, name), "w") as f:
            json.dump(doc, f)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-rel"))
    ap.add_argument("--workload", default="seed-workflow-conc")
    ap.add_argument("--executions", type=int, default=0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dmap", type=int, default=0)
    a = ap.parse_args()
    bench = os.path.join(a.build, "bench", "wf-bench")
    workloads = os.path.join(ROOT, "..", "shared", "bench", "workloads")
    tmp = tempfile.mkdtemp(prefix="wf-share-bench-")
    if a.dmap:
        workloads = dmap_workload(tmp, a.dmap)
        a.workload = "dmap"
    state = os.path.join(tmp, "pg")
    server = os.path.join(ROOT, "tests", "pg_server.sh")
    env = dict(os.environ, PG_FSYNC="on")
    subprocess.run(["sh", server, "start", state], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    try:
        with open(os.path.join(state, "dir")) as f:
            sock = f.read().strip()
        with open(os.path.join(sock, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        subprocess.run(["createdb", "-h", sock, "-U", "wf", "bench"],
                       check=True)
        uri = f"postgresql://wf@/bench?host={sock}"
        configs = [
            ("memory", []),
            ("sqlite", ["--store", f"sqlite:{tmp}/bench.db"]),
            ("postgresql, one writer", ["--store", uri]),
            ("postgresql, 1 shared worker", ["--store", uri, "--workers", "1"]),
            ("postgresql, 2 shared workers", ["--store", uri, "--workers", "2"]),
            ("postgresql, 4 shared workers", ["--store", uri, "--workers", "4"]),
        ]
        what = (f"one Distributed Map of {a.dmap:,} Task items (items/s)"
                if a.dmap else a.workload)
        print(f"{what}, history kept, median of {a.runs} runs "
              f"(PostgreSQL 15, fsync on, Unix socket; {os.cpu_count()} CPUs)")
        print(f"{'store':32} {'executions/s':>13} {'db CPU s':>9} "
              f"{'workers CPU s':>14} {'db share':>9}")
        for label, args in configs:
            results = [run(bench, workloads, a.workload, a.executions, args,
                           postmaster)
                       for _ in range(a.runs)]
            results.sort(key=lambda r: r[0])
            per_second, _, pg, me = results[len(results) // 2]
            share = pg / (pg + me) if pg + me else 0.0
            spread = f"({results[0][0]:,.0f}-{results[-1][0]:,.0f})"
            print(f"{label:32} {per_second:>13,.0f} {pg:>9.2f} {me:>14.2f} "
                  f"{share:>8.0%}  {spread}")
    finally:
        subprocess.run(["sh", server, "stop", state], check=False)


if __name__ == "__main__":
    main()
