"""Engine.test_state(): AWS's TestState from Python (one state, its status,
next state, mocks, variables and inspection data)."""

from __future__ import annotations

import pytest

import workflow

WORK = "arn:aws:lambda:us-east-1:123456789012:function:Work"
TASK = {"Type": "Task", "Resource": WORK,
        "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 1}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
        "Next": "Done"}


def test_a_task_calls_the_python_handler() -> None:
    with workflow.Engine() as e:
        e.register_handler(WORK, lambda event: {"twice": event["n"] * 2})
        r = e.test_state(TASK, {"n": 4}, inspection_level="DEBUG")
        assert r.status == "SUCCEEDED"
        assert r.output == {"twice": 8}
        assert r.next_state == "Done"
        assert r.inspection_data is not None
        assert r.inspection_data["input"] == '{"n":4}'


def test_mocks_retries_and_catches() -> None:
    with workflow.Engine() as e:
        busy = workflow.TaskFailed("Busy", "later")
        r = e.test_state(TASK, mock=busy)
        assert (r.status, r.error, r.cause) == ("RETRIABLE", "Busy", "later")
        r = e.test_state(TASK, mock=busy, retrier_retry_count=1)
        assert (r.status, r.next_state) == ("CAUGHT_ERROR", "Caught")
        r = e.test_state(TASK, mock={"m": 1})
        assert (r.status, r.output) == ("SUCCEEDED", {"m": 1})


def test_jsonata_variables_and_refusals() -> None:
    with workflow.Engine() as e:
        r = e.test_state({"Type": "Pass", "QueryLanguage": "JSONata",
                          "Assign": {"y": "{% $x + 1 %}"},
                          "Output": "{% $x %}", "End": True},
                         variables={"x": 1}, inspection_level="TRACE")
        assert r.output == 1 and r.next_state is None
        assert r.inspection_data is not None
        assert r.inspection_data["variables"] == '{"x":1,"y":2}'
        with pytest.raises(workflow.WorkflowError,
                           match="does not support Map or Parallel"):
            e.test_state({"Type": "Parallel", "End": True, "Branches": [
                {"StartAt": "P", "States": {"P": {"Type": "Pass",
                                                  "End": True}}}]})
        with pytest.raises(workflow.WorkflowError):
            e.test_state({"Type": "Pass"})
