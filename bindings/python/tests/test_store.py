"""Durable SQLite stores: executions survive the engine, resume, tokens
handed out before a restart; the store's reading side."""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

import pytest

import workflow

from test_engine import CALLBACK, GREET, task_machine


def test_sqlite_store_resumes_a_callback_task(tmp_path: Path) -> None:
    db = tmp_path / "wf.db"
    tokens: "queue.Queue[str]" = queue.Queue()

    def park(value: Any, ctx: workflow.Context) -> Any:
        tokens.put(ctx.token)
        return workflow.PENDING

    m = task_machine(CALLBACK, Parameters={
        "FunctionName": "F", "Payload": {"token.$": "$$.Task.Token"}})
    store = workflow.Store.sqlite(db, sync="normal")
    assert store.durable
    with workflow.Engine(store=store) as e:
        e.register_handler(CALLBACK, park)
        x = e.start(m, {"order": 7}, name="order-7")
        token = tokens.get(timeout=5)
        with pytest.raises(workflow.WorkflowError):
            store.close()  # the engine still uses it
    assert x.status == "RUNNING"  # left in the store to be resumed
    del e
    with workflow.Engine(store=store) as e2:
        e2.register_handler(CALLBACK, park)
        assert e2.resume() == 1
        y = e2.find_execution(x.arn)
        assert y.status == "RUNNING"
        e2.send_task_success(token, {"paid": True})
        assert y.wait(5) and y.output == {"paid": True}
    rec = store.execution(x.arn)
    assert (rec.name, rec.status, rec.output) == ("order-7", "SUCCEEDED",
                                                  {"paid": True})
    assert rec.input == {"order": 7}
    assert [r.arn for r in store.executions(status="SUCCEEDED")] == [x.arn]
    types = [ev["type"] for ev in store.events(x.arn)]
    assert types[0] == "ExecutionStarted"
    assert types[-1] == "ExecutionSucceeded"
    del e2
    store.close()


def test_memory_store_and_missing_executions() -> None:
    store = workflow.Store.memory(retention_count=10)
    assert not store.durable
    with workflow.Engine(store=store) as e:
        e.register_handler(GREET, lambda v: v)
        x = e.run(task_machine(), {"k": 1})
    assert store.execution(x.arn).output == {"k": 1}
    with pytest.raises(workflow.WorkflowError) as info:
        store.execution("arn:aws:states:us-east-1:1:execution:none:none")
    assert info.value.name == "WF_ENOTFOUND"


def test_damaged_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-store.db"
    bad.write_text("hello")
    with pytest.raises(workflow.WorkflowError) as info:
        workflow.Store.sqlite(bad)
    assert info.value.name in ("WF_ECORRUPT", "WF_EIO")
    assert "not-a-store.db" in str(info.value)


def test_postgresql_is_refused_with_the_reason() -> None:
    with pytest.raises(NotImplementedError, match="no PostgreSQL store"):
        workflow.Store.postgresql("postgresql://localhost/db")
