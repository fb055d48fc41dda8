"""Durable stores (SQLite, and PostgreSQL on the throwaway server of the
ctest fixture "postgres"): executions survive the engine, resume, tokens
handed out before a restart; the store's reading side."""

from __future__ import annotations

import os
import queue
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import workflow

from test_engine import CALLBACK, GREET, task_machine


def parking_handler(tokens: "queue.Queue[str]") -> Any:
    """A callback task's handler: hands its token out and leaves the task
    waiting for it."""
    def park(value: Any, ctx: workflow.Context) -> Any:
        tokens.put(ctx.token)
        return workflow.PENDING
    return park


def callback_machine() -> workflow.Machine:
    """A Task whose handler gets its token as input."""
    return task_machine(CALLBACK, Parameters={
        "FunctionName": "F", "Payload": {"token.$": "$$.Task.Token"}})


def resumes_a_callback_task(store: workflow.Store) -> None:
    tokens: "queue.Queue[str]" = queue.Queue()
    park = parking_handler(tokens)
    m = callback_machine()
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


def test_sqlite_store_resumes_a_callback_task(tmp_path: Path) -> None:
    resumes_a_callback_task(workflow.Store.sqlite(tmp_path / "wf.db",
                                                  sync="normal"))


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A new database on the tests' PostgreSQL server (tests/pg_server.sh,
    whose state directory ctest gives in WF_TEST_POSTGRES): its
    connection string; dropped afterwards."""
    state = os.environ.get("WF_TEST_POSTGRES")
    if not state:
        pytest.skip("no PostgreSQL server for the tests: run them through "
                    "ctest (its postgres fixture starts one)")
    conninfo = Path(state) / "conninfo"
    if not conninfo.exists():
        skip = Path(state) / "skip"
        pytest.skip(skip.read_text() if skip.exists() else
                    "the postgres fixture started no server")
    server = conninfo.read_text().strip()
    name = f"wf-python-{os.getpid()}"

    def admin(sql: str) -> None:
        subprocess.run(["psql", "-qX", f"{server} dbname=postgres", "-c",
                        sql], check=True, capture_output=True)

    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    yield f"{server} dbname={name}"
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgresql_store_resumes_a_callback_task(pg_database: str) -> None:
    resumes_a_callback_task(workflow.Store.postgresql(pg_database,
                                                      connections=2))


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


def test_unreachable_postgresql_is_an_error_without_the_password() -> None:
    with pytest.raises(workflow.WorkflowError) as info:
        workflow.Store.postgresql("host=/nonexistent-dir dbname=wf",
                                  password="hunter2-secret")
    assert info.value.name == "WF_EIO"
    assert "cannot connect" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_shared_postgresql_stores_hand_a_task_to_another_engine(
        pg_database: str) -> None:
    """Two engines on one database opened shared: a callback task of an
    execution the first runs is completed through the second, which takes
    the execution over."""
    tokens: "queue.Queue[str]" = queue.Queue()
    park = parking_handler(tokens)
    m = callback_machine()
    a = workflow.Store.postgresql(pg_database, shared=True, lease_ms=600)
    b = workflow.Store.postgresql(pg_database, shared=True, lease_ms=600)
    with workflow.Engine(store=a) as ea, workflow.Engine(store=b) as eb:
        for e in (ea, eb):
            e.register_handler(CALLBACK, park)
            e.resume()
        x = ea.start(m, {"order": 8}, name="order-8")
        eb.send_task_success(tokens.get(timeout=5), {"paid": True})
        deadline = time.monotonic() + 10
        while b.execution(x.arn).status == "RUNNING":
            assert time.monotonic() < deadline, "it did not end"
            time.sleep(0.01)
        assert b.execution(x.arn).output == {"paid": True}
    a.close()
    b.close()
