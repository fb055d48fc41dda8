"""StartSyncExecution and TestState through wf-gateway with boto3.

botocore sends both to the endpoint's host with "sync-" in front
(http://sync-127.0.0.1:PORT/ does not resolve). Three ways past it:

  no-prefix  endpoint http://127.0.0.1:PORT, Config(inject_host_prefix=False)
             (every boto3)
  env        endpoint http://127.0.0.1:PORT, AWS_DISABLE_HOST_PREFIX_INJECTION
             =true in the environment (botocore that reads it; the caller
             checks)
  localhost  endpoint http://sfn.localhost:PORT, default settings: the
             resolver must map *.localhost to loopback (libnss-myhostname)

Run by tests/test_gateway_clients.c: python3 sfn_host_prefix.py PORT MODE.
Requests are signed (the gateway checks SigV4, the Host header included).
Prints OK and exits 0 when every check holds; otherwise the failed check.
"""
import json
import sys

import boto3
import botocore.config
import botocore.exceptions

from sfn_client import client

PORT, MODE = sys.argv[1], sys.argv[2]
ROLE = "arn:aws:iam::123456789012:role/tests"
HOST = "sfn.localhost" if MODE == "localhost" else "127.0.0.1"
config = botocore.config.Config(
    inject_host_prefix=False) if MODE == "no-prefix" else None
sfn = client(PORT, host=HOST, config=config)


def fail(what):
    print("FAILED (%s, boto3 %s): %s" % (MODE, boto3.__version__, what))
    sys.exit(1)


def machine(name, kind, states):
    definition = {"StartAt": "S", "States": {"S": states}}
    return sfn.create_state_machine(
        name="%s-%s" % (name, MODE), roleArn=ROLE, type=kind,
        definition=json.dumps(definition))["stateMachineArn"]


def sync_start(arn, data):
    try:
        return sfn.start_sync_execution(stateMachineArn=arn, input=data)
    except botocore.exceptions.ClientError as e:
        return {"error_code": e.response["Error"]["Code"]}
    except botocore.exceptions.EndpointConnectionError as e:
        fail("StartSyncExecution did not reach the gateway: %s" % e)


double = machine("double", "EXPRESS", {
    "Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, $.n)"},
    "End": True})
r = sync_start(double, '{"n": 21}')
if r.get("status") != "SUCCEEDED" or json.loads(r["output"]) != {"n": 42}:
    fail("double: %r" % r)

boom = machine("boom", "EXPRESS", {
    "Type": "Fail", "Error": "Boom", "Cause": "it broke"})
r = sync_start(boom, "{}")
if (r.get("status"), r.get("error"), r.get("cause")) != (
        "FAILED", "Boom", "it broke"):
    fail("boom: %r" % r)

standard = machine("standard", "STANDARD", {"Type": "Pass", "End": True})
r = sync_start(standard, "{}")
if r.get("error_code") != "StateMachineTypeNotSupported":
    fail("a STANDARD machine: %r" % r)

# TestState takes the same prefix (boto3 before 1.33 has no test_state;
# before 1.42, no mock or stateConfiguration).
def test_state(**kwargs):
    try:
        return sfn.test_state(roleArn=ROLE, **kwargs)
    except botocore.exceptions.ClientError as e:
        return {"error_code": e.response["Error"]["Code"],
                "message": e.response["Error"].get("Message", "")}
    except botocore.exceptions.EndpointConnectionError as e:
        fail("TestState did not reach the gateway: %s" % e)


if hasattr(sfn, "test_state"):
    r = test_state(definition=json.dumps(
        {"Type": "Pass", "Parameters": {"v.$": "$.a"}, "Next": "After"}),
        input='{"a": 1}', inspectionLevel="DEBUG")
    if (r.get("status"), r.get("nextState"), r.get("output")) != (
            "SUCCEEDED", "After", '{"v":1}') or \
            r["inspectionData"].get("afterParameters") != '{"v":1}':
        fail("TestState of a Pass: %r" % r)
    r = test_state(definition='{"Type": "Pass"}')
    if r.get("error_code") != "InvalidDefinition":
        fail("TestState of an invalid state: %r" % r)
    model = sfn.meta.service_model.operation_model("TestState")
    if "mock" in model.input_shape.members:
        task = json.dumps({
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            "End": True})
        busy = {"errorOutput": {"error": "Busy", "cause": "later"}}
        r = test_state(definition=task, mock=busy)
        if (r.get("status"), r.get("error")) != ("RETRIABLE", "Busy"):
            fail("TestState, retriable: %r" % r)
        r = test_state(definition=task, mock=busy,
                       stateConfiguration={"retrierRetryCount": 2})
        if (r.get("status"), r.get("nextState")) != ("CAUGHT_ERROR", "Caught"):
            fail("TestState, caught: %r" % r)
        r = test_state(definition=task, mock={"result": '{"Payload": 7}'},
                       variables='{"x": 1}')
        if (r.get("status"), r.get("output")) != ("SUCCEEDED", '{"Payload":7}'):
            fail("TestState, mocked: %r" % r)
print("OK")
