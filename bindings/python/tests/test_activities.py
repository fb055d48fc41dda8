"""Activities from Python: records, a worker polling and answering by token,
the empty answer, and the errors."""

from __future__ import annotations

import threading
from typing import List, Optional

import pytest

import workflow

ARN = "arn:aws:states:us-east-1:123456789012:activity:"
MACHINE = workflow.Machine.from_json({
    "StartAt": "Work",
    "States": {"Work": {"Type": "Task", "Resource": ARN + "work",
                        "End": True}}})


def test_records() -> None:
    with workflow.Engine() as engine:
        acts = workflow.Activities(engine)
        a = acts.create("work", tags=[{"key": "k", "value": "v"}])
        assert a.arn == ARN + "work" and a.tags == [{"key": "k", "value": "v"}]
        assert acts.create("work") == a  # idempotent by name
        acts.create("other")
        assert [x.name for x in acts.list()] == ["work", "other"]
        acts.set_tags(a.arn, [])
        assert acts.describe(a.arn).tags == []
        acts.delete(ARN + "other")
        with pytest.raises(workflow.WorkflowError) as e:
            acts.describe(ARN + "other")
        assert e.value.name == "WF_ENOTFOUND"
        assert e.value.args[0] == "Activity Does Not Exist: '%sother'" % ARN
        with pytest.raises(workflow.WorkflowError) as e:
            acts.create("bad name")
        assert e.value.args[0] == "Invalid Name: 'bad name'"


def test_a_worker_answers_by_token() -> None:
    with workflow.Engine() as engine:
        acts = workflow.Activities(engine)
        acts.create("work")
        got: List[Optional[workflow.ActivityTask]] = []

        def worker() -> None:
            got.append(acts.get_task(ARN + "work", worker_name="py",
                                     timeout=10))

        t = threading.Thread(target=worker)
        t.start()
        run = engine.start(MACHINE, {"n": 1})
        t.join()
        task = got[0]
        assert task is not None and task.input == {"n": 1}
        engine.send_task_success(task.token, {"done": True})
        run.wait()
        assert run.status == "SUCCEEDED" and run.output == {"done": True}
        # Nothing more queued: the empty answer after the poll's time.
        assert acts.get_task(ARN + "work", timeout=0.05) is None
