"""The seed workflow's paths, tested with libworkflow's pytest plugin.

    pip install bindings/python        # once (see the README)
    pytest examples/python

Each test runs examples/workflows/seed-workflow.json on a virtual clock
with its Task states mocked, in a few milliseconds: retry back-offs take no
real time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

from workflow.testing import Runner, Throw

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
SEED = WORKFLOWS / "seed-workflow.json"
PROCESSED = {"status": "SUCCESS", "recordsProcessed": 3,
             "checksum": "sha256:2b3b7e6a"}
DELIVERED = {"delivered": True, "channel": "EMAIL", "messageId": "msg-0001"}


@pytest.fixture
def order() -> Dict[str, Any]:
    value: Dict[str, Any] = json.loads(
        (WORKFLOWS / "seed-input.json").read_text())
    return value


@pytest.mark.parametrize("definition", ["seed-workflow.json",
                                        "seed-workflow.yaml"])
def test_success(workflow_runner: Runner, order: Dict[str, Any],
                 definition: str) -> None:
    run = workflow_runner.run(WORKFLOWS / definition, order, mocks={
        "ProcessData": PROCESSED, "SendNotification": DELIVERED})
    run.assert_succeeded()
    run.assert_path("ProcessData", "CheckStatus", "SendNotification",
                    "WorkflowCompleted")
    run.assert_output_contains({"processingResult": PROCESSED,
                                "notificationResult": DELIVERED})


def test_success_from_the_mock_config_file(workflow_runner: Runner,
                                           order: Dict[str, Any]) -> None:
    # The Step Functions Local MockConfigFile's HappyPath test case: the
    # first notification fails and is retried.
    run = workflow_runner.run(SEED, order,
                              mock_config=WORKFLOWS / "seed-mocks.json",
                              test_case="HappyPath")
    run.assert_succeeded().assert_retries("SendNotification", 1)


def test_processing_failure_is_caught(workflow_runner: Runner,
                                      order: Dict[str, Any]) -> None:
    run = workflow_runner.run(SEED, order, mocks={
        "ProcessData": Throw("ProcessData.ValidationError",
                             "record 2 has no value")})
    run.assert_failed("ProcessingFailed", "Data processing did not succeed")
    run.assert_path("ProcessData", "ProcessingFailed")
    run.assert_retries("ProcessData", 0)  # not a transient error
    run.assert_caught("ProcessData", error="ProcessData.ValidationError",
                      next="ProcessingFailed")


def test_processing_status_not_success_goes_to_failure(
        workflow_runner: Runner, order: Dict[str, Any]) -> None:
    run = workflow_runner.run(SEED, order, mocks={
        "ProcessData": {"status": "PARTIAL", "recordsProcessed": 1}})
    run.assert_failed("ProcessingFailed")
    run.assert_path("ProcessData", "CheckStatus", "ProcessingFailed")
    run.assert_not_caught("ProcessData")


def test_transient_processing_errors_are_retried_then_caught(
        workflow_runner: Runner, order: Dict[str, Any]) -> None:
    run = workflow_runner.run(SEED, order, mocks={
        "ProcessData": [Throw("ProcessData.TransientError", "busy")] * 4})
    run.assert_failed("ProcessingFailed")
    run.assert_retries("ProcessData", 3)  # MaxAttempts 3
    run.assert_caught("ProcessData", error="ProcessData.TransientError")


def test_notification_failure_with_retries(workflow_runner: Runner,
                                           order: Dict[str, Any]) -> None:
    run = workflow_runner.run(SEED, order, mocks={
        "ProcessData": PROCESSED,
        "SendNotification": [Throw("SendNotification.DeliveryFailed",
                                   "The EMAIL gateway did not answer")] * 4})
    run.assert_failed("NotificationFailed", "Notification could not be sent")
    run.assert_path("ProcessData", "CheckStatus", "SendNotification",
                    "NotificationFailed")
    run.assert_retries("SendNotification", 3)
    caught = run.assert_caught("SendNotification",
                               error="SendNotification.DeliveryFailed",
                               next="NotificationFailed")
    assert caught.cause == "The EMAIL gateway did not answer"
    # The back-off (1 s, 2 s, 4 s) passed on the virtual clock only.
    assert run.execution.stop_ms - run.execution.start_ms >= 7000


def test_notification_retried_then_delivered(workflow_runner: Runner,
                                             order: Dict[str, Any]) -> None:
    calls = []

    def send(event: Dict[str, Any]) -> Dict[str, Any]:
        calls.append(event["notification"]["recipient"])
        if len(calls) < 3:
            raise ConnectionError("SMTP server unreachable")
        return DELIVERED

    run = workflow_runner.run(SEED, order, mocks={
        "ProcessData": PROCESSED, "SendNotification": send})
    run.assert_succeeded().assert_retries("SendNotification", 2)
    assert calls == ["ops@example.com"] * 3


def test_invalid_recipient_is_not_retried(workflow_runner: Runner,
                                          order: Dict[str, Any]) -> None:
    run = workflow_runner.run(SEED, order, mocks={
        "ProcessData": PROCESSED,
        "SendNotification": Throw("SendNotification.InvalidRecipient")})
    run.assert_failed("NotificationFailed")
    run.assert_retries("SendNotification", 0)  # MaxAttempts 0
