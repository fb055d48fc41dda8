"""workflow.testing and the pytest plugin: mocks, paths, retries, catches
and the failure messages."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict

import pytest

from workflow.testing import Return, Runner, Throw

from conftest import WORKFLOWS

SEED = WORKFLOWS / "seed-workflow.json"
OK = {"status": "SUCCESS", "recordsProcessed": 3}
DELIVERED = {"delivered": True, "channel": "EMAIL"}
pytest_plugins = ["pytester"]


def test_fixture_runs_the_happy_path(workflow_runner: Runner,
                                     seed_input: Dict[str, Any]) -> None:
    t0 = time.perf_counter()
    r = workflow_runner.run(SEED, seed_input, mocks={
        "ProcessData": OK, "SendNotification": DELIVERED})
    r.assert_succeeded().assert_path(
        "ProcessData", "CheckStatus", "SendNotification", "WorkflowCompleted")
    r.assert_output_contains({"notificationResult": DELIVERED})
    r.assert_retries("SendNotification", 0).assert_not_caught("ProcessData")
    assert r.state_output("ProcessData")["processingResult"] == OK
    assert r.state_input("SendNotification")["processingResult"] == OK
    assert time.perf_counter() - t0 < 0.5


def test_retries_back_off_on_the_virtual_clock(workflow_runner: Runner,
                                               seed_input: Any) -> None:
    r = workflow_runner.run(SEED, seed_input, mocks={
        "ProcessData": [Throw("ProcessData.TransientError")] * 3 + [OK],
        "SendNotification": DELIVERED})
    r.assert_succeeded().assert_retries("ProcessData", 3)
    assert r.attempts("ProcessData") == 4
    # Up to 2 + 4 + 8 s of (jittered) back-off, in virtual time only.
    assert r.execution.stop_ms - r.execution.start_ms <= 14_000


def test_catch_that_fired(workflow_runner: Runner, seed_input: Any) -> None:
    r = workflow_runner.run(SEED, seed_input, mocks={
        "ProcessData": Throw("ProcessData.ValidationError", "bad record")})
    r.assert_failed("ProcessingFailed", "Data processing did not succeed")
    c = r.assert_caught("ProcessData", error="ProcessData.ValidationError",
                        next="ProcessingFailed", index=0)
    assert c.cause == "bad record"
    r.assert_not_visited("SendNotification")


def test_mock_config_file_and_test_case(workflow_runner: Runner,
                                        seed_input: Any) -> None:
    r = workflow_runner.run(SEED, seed_input,
                            mock_config=WORKFLOWS / "seed-mocks.json",
                            test_case="HappyPath")
    r.assert_succeeded().assert_retries("SendNotification", 1)
    # Inline mocks override the case's states.
    r = workflow_runner.run(SEED, seed_input,
                            mock_config=WORKFLOWS / "seed-mocks.json",
                            test_case="HappyPath",
                            mocks={"ProcessData": {"status": "PARTIAL"}})
    r.assert_failed("ProcessingFailed").assert_path(
        "ProcessData", "CheckStatus", "ProcessingFailed")


def test_yaml_jsonata_and_callable_mocks(workflow_runner: Runner,
                                         tmp_path: Path) -> None:
    (tmp_path / "m.asl.yaml").write_text(
        "QueryLanguage: JSONata\nStartAt: Get\nStates:\n"
        "  Get:\n    Type: Task\n"
        "    Resource: arn:aws:lambda:us-east-1:123456789012:function:Get\n"
        "    Arguments: {id: '{% $states.input.id %}'}\n"
        "    Output: '{% $states.result.items %}'\n"
        "    Next: Count\n"
        "  Count:\n    Type: Pass\n    Output: '{% $count($states.input) %}'\n"
        "    End: true\n")

    async def get(value: Any, ctx: Any) -> Any:
        await asyncio.sleep(0)
        return {"items": [value["id"], ctx.state_name]}

    r = workflow_runner.run(tmp_path / "m.asl.yaml", {"id": 5},
                            mocks={"Get": get})
    r.assert_succeeded(2)
    r = workflow_runner.run(tmp_path / "m.asl.yaml", {"id": 5},
                            mocks={"Get": Return({"items": [1, 2, 3]})})
    r.assert_succeeded(3)


def test_unknown_mocked_state_is_named(workflow_runner: Runner) -> None:
    with pytest.raises(ValueError, match="ProcesData.*ProcessData"):
        workflow_runner.run(SEED, {}, mocks={"ProcesData": OK})


def test_failure_message_shows_path_and_history(workflow_runner: Runner,
                                                seed_input: Any) -> None:
    r = workflow_runner.run(SEED, seed_input, mocks={
        "ProcessData": OK,
        "SendNotification": [Throw("SendNotification.DeliveryFailed",
                                   "gateway down")] * 4})
    with pytest.raises(AssertionError) as info:
        r.assert_succeeded()
    text = str(info.value)
    assert text.startswith("expected status SUCCEEDED, got FAILED\n")
    assert "path: ProcessData -> CheckStatus -> SendNotification -> " \
        "NotificationFailed" in text
    assert "> #" in text and "LambdaFunctionFailed [SendNotification] " \
        "error=SendNotification.DeliveryFailed cause=gateway down" in text
    with pytest.raises(AssertionError, match="expected 2 retries of "
                       "'SendNotification', got 3 \\(4 attempts\\)"):
        r.assert_retries("SendNotification", 2)


def test_plugin_in_a_pytest_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_seed=f"""
        from workflow.testing import Throw
        def test_fails(workflow_runner):
            r = workflow_runner.run({str(SEED)!r}, {{"data": {{}}}}, mocks={{
                "ProcessData": Throw("Boom")}})
            r.assert_path("ProcessData", "CheckStatus")
        def test_engine(workflow_engine):
            assert workflow_engine.clock is not None
        """)
    result = pytester.runpytest_subprocess("-p", "workflow.pytest_plugin")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "libworkflow: 0.*",
        "*expected path ProcessData -> CheckStatus",
        "*got path      ProcessData -> ProcessingFailed",
        "*> #* LambdaFunctionFailed [[]ProcessData[]] error=Boom"])


def test_runner_timeout_stops_a_stuck_execution() -> None:
    from workflow import PENDING
    # A task left pending with no TimeoutSeconds has no timer for the
    # virtual clock to jump to: the run's own timeout ends it.
    d = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "End": True,
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:T"}}}
    with Runner(timeout=0.05) as runner:
        r = runner.run(d, {}, mocks={"T": lambda v: PENDING})
    assert r.stuck and r.status == "ABORTED"
    assert "timeout passed" in r.explain()
