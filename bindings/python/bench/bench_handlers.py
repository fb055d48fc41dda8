"""Executions per second of the seed workflow from Python, its two Task
states answered (a) by the library itself (a MockConfigFile test case: no
Python runs during the execution), (b) by Python handlers on the worker
pool, (c) by Python handlers registered inline; and the overhead of one
Python handler call in microseconds, (b or c minus a) per call.

    WORKFLOW_LIBRARY=build-rel/libworkflow.so PYTHONPATH=bindings/python/src \\
        python3 bindings/python/bench/bench_handlers.py [SECONDS]

Executions run one after another from one thread (Engine.run), on a
virtual clock (the seed's retries never fire: no task fails)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict

import workflow

WORKFLOWS = Path(__file__).resolve().parents[3] / "examples" / "workflows"
PD = "arn:aws:lambda:us-east-1:123456789012:function:ProcessData"
SN = "arn:aws:lambda:us-east-1:123456789012:function:SendNotification"
RESULT = {"status": "SUCCESS", "recordsProcessed": 3}
SENT = {"delivered": True}
MOCKS = {"StateMachines": {"seed-workflow": {"TestCases": {"Bench": {
    "ProcessData": "P", "SendNotification": "S"}}}},
    "MockedResponses": {"P": {"0": {"Return": RESULT}},
                        "S": {"0": {"Return": SENT}}}}


def measure(setup: Callable[[workflow.Engine], Dict[str, Any]],
            seconds: float) -> float:
    machine = workflow.Machine.from_file(WORKFLOWS / "seed-workflow.json",
                                         name="seed-workflow")
    data = json.loads((WORKFLOWS / "seed-input.json").read_text())
    with workflow.Engine(virtual_time=True, history=False) as e:
        kw = setup(e)
        for _ in range(200):  # warm up
            e.run(machine, data, **kw).close()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            for _ in range(100):
                x = e.run(machine, data, **kw)
                assert x.status == "SUCCEEDED", (x.error, x.cause)
                x.close()
            n += 100
        return n / (time.perf_counter() - t0)


def mocked(e: workflow.Engine) -> Dict[str, Any]:
    e.set_mock_config(MOCKS)
    return {"test_case": "Bench"}


def python_handlers(inline: bool) -> Callable[[workflow.Engine],
                                              Dict[str, Any]]:
    def setup(e: workflow.Engine) -> Dict[str, Any]:
        e.register_handler(PD, lambda v: RESULT, inline=inline)
        e.register_handler(SN, lambda v: SENT, inline=inline)
        return {}
    return setup


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rows = {"library (mocked, no Python)": measure(mocked, seconds),
            "Python handlers, worker pool": measure(python_handlers(False),
                                                    seconds),
            "Python handlers, inline": measure(python_handlers(True),
                                               seconds)}
    base = rows["library (mocked, no Python)"]
    print(f"libworkflow {workflow.__version__} ({workflow.library_path()})")
    for name, rate in rows.items():
        extra = ""
        if rate != base:
            per_call = (1 / rate - 1 / base) / 2 * 1e6  # two tasks each
            extra = f"   {per_call:6.1f} us per Python handler call"
        print(f"{name:32} {rate:10.0f} executions/s{extra}")


if __name__ == "__main__":
    main()
