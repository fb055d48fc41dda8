"""Threads, garbage-collection order and engines freed at awkward times."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from typing import Any, List

import workflow

from test_engine import GREET, task_machine

WAIT = workflow.Machine.from_json({"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 3600, "End": True}}})


def test_many_python_threads_share_one_engine() -> None:
    m = task_machine()
    errors: List[BaseException] = []
    with workflow.Engine(worker_threads=4) as e:
        e.register_handler(GREET, lambda v: {"n": v["n"] * 2})

        def client(k: int) -> None:
            try:
                for i in range(25):
                    x = e.run(m, {"n": i}) if i % 2 else e.start(m, {"n": i})
                    assert x.wait(10) and x.output == {"n": 2 * i}
            except BaseException as ex:
                errors.append(ex)

        threads = [threading.Thread(target=client, args=(k,))
                   for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_engine_dropped_before_its_executions() -> None:
    e = workflow.Engine()
    e.register_handler(GREET, lambda v: v)
    running = e.start(WAIT, {"a": 1})
    done = e.run(task_machine(), {"b": 2})
    del e
    gc.collect()
    # The executions outlive the engine and stay readable.
    assert running.status == "ABORTED"
    assert done.output == {"b": 2}
    assert [ev["type"] for ev in done.history()][-1] == "ExecutionSucceeded"


def test_machine_and_clock_dropped_while_executions_run() -> None:
    e = workflow.Engine(virtual_time=True)
    m = workflow.Machine.from_json(WAIT.definition)
    x = e.start(m, {})
    del m
    gc.collect()
    assert x.wait(5) and x.status == "SUCCEEDED"
    clock = e.clock
    del e, clock
    gc.collect()
    assert x.output == {}


def test_engine_closed_from_its_own_handler() -> None:
    e = workflow.Engine()
    closed = threading.Event()

    def close_me(value: Any) -> Any:
        e.close()  # freed by another thread once this call returns
        closed.set()
        return {}

    e.register_handler(GREET, close_me)
    x = e.start(task_machine(), {})
    assert closed.wait(5)
    assert x.wait(5)
    assert e.closed


def test_cycles_through_handlers_are_collected_at_exit() -> None:
    # An engine kept alive by its own handler, a pending async task and a
    # running execution, left to interpreter exit: no crash, no hang.
    code = (
        "import asyncio, workflow\n"
        "e = workflow.Engine()\n"
        "async def slow(v):\n"
        "    await asyncio.sleep(30)\n"
        "e.register_handler('" + GREET + "', slow)\n"
        "e.register_handler('" + GREET + "2', lambda v: e)\n"
        "m = workflow.Machine.from_json({'StartAt': 'T', 'States': {'T': {"
        "'Type': 'Task', 'Resource': '" + GREET + "', 'End': True}}})\n"
        "x = e.start(m, {})\n"
        "print('started')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "started\n"


def test_wait_from_own_handler_is_refused() -> None:
    got: List[str] = []
    with workflow.Engine() as e:
        other = e.start(WAIT, {})

        def waiter(value: Any) -> Any:
            try:
                other.wait(0)
            except workflow.WorkflowError as ex:
                got.append(ex.name)
            return {}

        e.register_handler(GREET, waiter)
        assert e.run(task_machine(), {}).status == "SUCCEEDED"
    assert got == ["WF_ESTATE"]
