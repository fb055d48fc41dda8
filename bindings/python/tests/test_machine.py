"""Loading definitions: JSON, YAML, files, JSONata, AWS's diagnostics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import workflow

from conftest import WORKFLOWS

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


def test_json_yaml_and_dict_load_the_same_definition() -> None:
    a = workflow.Machine.from_json(json.dumps(PASS), name="m")
    b = workflow.Machine.from_yaml(
        "StartAt: A\nStates:\n  A: {Type: Pass, End: true}\n")
    c = workflow.Machine.from_json(PASS)
    assert a.name == "m" and b.name == "StateMachine"
    assert a.definition == b.definition == c.definition == PASS
    assert (a.start_at, a.state_count, a.express) == ("A", 1, False)


def test_files_by_extension() -> None:
    j = workflow.Machine.from_file(WORKFLOWS / "seed-workflow.json")
    y = workflow.Machine.from_file(WORKFLOWS / "seed-workflow.yaml")
    assert j.definition == y.definition
    assert j.state_count == 6


def test_unreadable_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(workflow.WorkflowError) as info:
        workflow.Machine.from_file(tmp_path / "missing.json")
    assert info.value.name == "WF_EIO"
    assert "missing.json" in str(info.value)


def test_invalid_definition_carries_aws_diagnostics() -> None:
    with pytest.raises(workflow.DefinitionError) as info:
        workflow.Machine.from_json(
            '{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}')
    assert ("MISSING_TRANSITION_TARGET", "Missing 'Next' target: B",
            "/States/A/Next") in info.value.diagnostics
    assert info.value.name == "WF_EINVALID"
    assert info.value.path == "/States/A/Next"


def test_express_rules_apply() -> None:
    d = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "End": True,
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken"}}}
    workflow.Machine.from_json(d)
    with pytest.raises(workflow.DefinitionError):
        workflow.Machine.from_json(d, express=True)


def test_jsonata_machine_runs() -> None:
    m = workflow.Machine.from_json({
        "QueryLanguage": "JSONata", "StartAt": "Sum",
        "States": {"Sum": {"Type": "Pass", "End": True,
                           "Output": "{% {'total': $sum($states.input.xs)} %}"
                           }}})
    with workflow.Engine() as e:
        x = e.run(m, {"xs": [1, 2, 3.5]})
        assert (x.status, x.output) == ("SUCCEEDED", {"total": 6.5})


def test_allowed_resources_refuse_other_tasks() -> None:
    m = workflow.Machine.from_json({"StartAt": "T", "States": {"T": {
        "Type": "Task", "End": True,
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F"}}},
        allowed_resources=["arn:aws:lambda:us-east-1:123456789012:function:G"])
    with workflow.Engine() as e:
        x = e.run(m, {})
        assert (x.status, x.error) == ("FAILED", "States.Permissions")


def test_closed_machine_refuses_use() -> None:
    m = workflow.Machine.from_json(PASS)
    m.close()
    with pytest.raises(ValueError):
        m.name
