"""Nested executions (states:startExecution) through wf-gateway with boto3.

Run by tests/test_gateway_sfn_nested.c: python3 sfn_nested.py PORT.
Creates a child machine and parents of each form, then checks what a
user sees with boto3: the .sync:2 and .sync results, the child listed
with ListExecutions and described with its parent's id in its input, the
parent's TaskSubmitted, a missing machine's error, a .waitForTaskToken
parent answered with SendTaskSuccess by the token the child got, and a
stopped parent's child ABORTED. Prints OK and exits 0 when every check
holds; otherwise the failed check.
"""
import json
import sys
import time

from sfn_client import check, client, ended, fail

PORT = sys.argv[1]
SM = "arn:aws:states:us-east-1:123456789012:stateMachine:"
ROLE = "arn:aws:iam::123456789012:role/tests"
sfn = client(PORT)


def machine(name, definition):
    sfn.create_state_machine(name=name, roleArn=ROLE,
                             definition=json.dumps(definition))


def parent(name, form, child, extra=None):
    params = {"StateMachineArn": SM + child,
              "Input": dict({"n.$": "$.n",
                             "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$":
                             "$$.Execution.Id"}, **(extra or {}))}
    machine(name, {"StartAt": "Nest", "States": {"Nest": {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution" + form,
        "Parameters": params, "End": True}}})


def first_execution(machine_name):
    """The first execution of a machine, once it has one."""
    for _ in range(500):
        listed = sfn.list_executions(
            stateMachineArn=SM + machine_name)["executions"]
        if listed:
            check(len(listed) == 1, "%s: %r" % (machine_name, listed))
            return listed[0]["executionArn"]
        time.sleep(0.02)
    fail("%s never ran" % machine_name)


def run(machine_name, name, data):
    arn = sfn.start_execution(stateMachineArn=SM + machine_name, name=name,
                              input=json.dumps(data))["executionArn"]
    return ended(sfn, arn)


machine("double", {"StartAt": "Double", "States": {"Double": {
    "Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"},
    "End": True}}})
machine("sleepy", {"StartAt": "Wait", "States": {"Wait": {
    "Type": "Wait", "Seconds": 3600, "End": True}}})
machine("asking", {"StartAt": "Wait", "States": {"Wait": {
    "Type": "Wait", "Seconds": 3600, "End": True}}})

# .sync:2: the child's description with its output as JSON.
parent("p-sync2", ".sync:2", "double")
x = run("p-sync2", "run-1", {"n": 21})
check(x["status"] == "SUCCEEDED", "sync:2 %r" % x)
out = json.loads(x["output"])
check(out["Output"] == {"twice": 42}, "sync:2 output %r" % out)
check(out["Status"] == "SUCCEEDED" and out["StateMachineArn"] == SM + "double",
      "sync:2 describe %r" % out)
child_arn = out["ExecutionArn"]
# The child is an execution of its own, listed and described.
listed = [e["executionArn"] for e in
          sfn.list_executions(stateMachineArn=SM + "double")["executions"]]
check(child_arn in listed, "child not listed: %r" % listed)
child = sfn.describe_execution(executionArn=child_arn)
child_input = json.loads(child["input"])
check(child_input["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] ==
      x["executionArn"], "child input %r" % child_input)
check(json.loads(child["output"]) == {"twice": 42}, "child %r" % child)
events = sfn.get_execution_history(executionArn=x["executionArn"])["events"]
types = [e["type"] for e in events]
check("TaskSubmitted" in types, "history %r" % types)

# .sync: the output as JSON text.
parent("p-sync", ".sync", "double")
x = run("p-sync", "run-2", {"n": 2})
out = json.loads(x["output"])
check(json.loads(out["Output"]) == {"twice": 4}, "sync output %r" % out)

# A machine that does not exist: AWS's error, named.
parent("p-missing", ".sync", "nothing")
x = run("p-missing", "run-3", {"n": 1})
check(x["status"] == "FAILED" and
      x["error"] == "StepFunctions.StateMachineDoesNotExistException",
      "missing %r" % x)

# .waitForTaskToken: the child gets the token, the client answers it.
parent("p-token", ".waitForTaskToken", "asking",
       {"token.$": "$$.Task.Token"})
arn = sfn.start_execution(stateMachineArn=SM + "p-token", name="run-4",
                          input='{"n":3}')["executionArn"]
token = json.loads(sfn.describe_execution(
    executionArn=first_execution("asking"))["input"])["token"]
sfn.send_task_success(taskToken=token, output='{"answered":true}')
x = ended(sfn, arn)
check(x["status"] == "SUCCEEDED" and
      json.loads(x["output"]) == {"answered": True}, "token %r" % x)

# Stopping a .sync parent stops its child.
parent("p-stop", ".sync", "sleepy")
arn = sfn.start_execution(stateMachineArn=SM + "p-stop", name="run-5",
                          input='{"n":1}')["executionArn"]
sleeper = first_execution("sleepy")
sfn.stop_execution(executionArn=arn, error="Stop", cause="by boto3")
child = ended(sfn, sleeper)
check(child["status"] == "ABORTED" and child.get("cause") ==
      "The Task state in AWS Step Functions execution [%s] which was "
      "managing this resource was aborted" % arn, "stopped child %r" % child)
print("OK")
