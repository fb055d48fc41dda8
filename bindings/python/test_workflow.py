"""Tests of the Python bindings (run by ctest; WORKFLOW_LIBRARY points at
the built libworkflow.so)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workflow  # noqa: E402

GREET = "arn:aws:lambda:us-east-1:123456789012:function:Greet"
DEF = json.dumps({
    "StartAt": "Greet",
    "States": {
        "Greet": {"Type": "Task", "Resource": GREET, "ResultPath": "$.out",
                  "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 5}],
                  "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
})


class MachineTest(unittest.TestCase):
    def test_loads_json_and_yaml_alike(self):
        a = workflow.Machine.from_json(DEF, name="greeter")
        b = workflow.Machine.from_yaml(
            "StartAt: A\nStates:\n  A: {Type: Pass, End: true}\n")
        self.assertEqual(a.name, "greeter")
        self.assertEqual(a.definition["StartAt"], "Greet")
        self.assertEqual(b.definition["States"]["A"]["Type"], "Pass")

    def test_invalid_definition_carries_aws_diagnostics(self):
        with self.assertRaises(workflow.DefinitionError) as cm:
            workflow.Machine.from_json(
                '{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}')
        codes = [d[0] for d in cm.exception.diagnostics]
        self.assertIn("MISSING_TRANSITION_TARGET", codes)
        self.assertIn(("MISSING_TRANSITION_TARGET",
                       "Missing 'Next' target: B", "/States/A/Next"),
                      cm.exception.diagnostics)
        self.assertEqual(cm.exception.name, "WF_EINVALID")


class EngineTest(unittest.TestCase):
    def test_python_handler_retry_and_virtual_wait(self):
        calls = []

        def greet(value):
            calls.append(value)
            if len(calls) == 1:
                raise workflow.TaskFailed("Flaky", "first call fails")
            return {"greeting": "hello " + value["name"]}

        m = workflow.Machine.from_json(DEF)
        with workflow.Engine(virtual_time=True) as e:
            e.register_handler(GREET, greet)
            x = e.run(m, {"name": "world"}, correlation_id="c-1")
            self.assertEqual(x.status, "SUCCEEDED")
            self.assertEqual(x.output,
                             {"name": "world",
                              "out": {"greeting": "hello world"}})
            self.assertEqual(len(calls), 2)
            types = [ev["type"] for ev in x.history()]
            self.assertEqual(types.count("LambdaFunctionFailed"), 1)
            self.assertIn("WaitStateExited", types)

    def test_failure_and_mocks(self):
        m = workflow.Machine.from_json(DEF, name="M")
        with workflow.Engine(virtual_time=True) as e:
            e.set_mock_config({
                "StateMachines": {"M": {"TestCases": {"T": {"Greet": "R"}}}},
                "MockedResponses": {"R": {"0-3": {"Throw": {
                    "Error": "Boom", "Cause": "mocked"}}}}})
            x = e.run(m, {}, test_case="T")
            self.assertEqual(x.status, "FAILED")
            self.assertEqual((x.error, x.cause), ("Boom", "mocked"))
            self.assertIsNone(x.output)

    def test_bad_input_raises(self):
        m = workflow.Machine.from_json(DEF)
        with workflow.Engine() as e:
            with self.assertRaises(workflow.WorkflowError):
                e.start(m, input=None, name="bad name with spaces")


if __name__ == "__main__":
    unittest.main()
