"""Every operation of wf-gateway's AWS JSON API with boto3 or the AWS CLI:
each answered once with success and once with an error AWS gives (a
missing resource, a bad name or token, a conflict). The scenario is
tests/support/sfn_operations_scenario.cjs's (the JavaScript SDKs v3 and
v2), step for step, so every client tries the same calls. An operation
the client does not know (Debian 12's boto3 1.26.27 and AWS CLI 2.9.19
predate versions, aliases, validation, redrive and TestState) is left
out, with the steps that need it.

The AWS CLI is the one installed with this Python (Debian's v2 on
/usr/bin/python3, a v1 from pip elsewhere), run through its entry point
in this process, a call at a time, with the arguments a shell would pass
to `aws stepfunctions OPERATION`: one process per call would take most of
a second each.

Run by tests/test_gateway_clients.c:
python3 sfn_operations.py PORT boto3|cli OP..., OP naming the operations
the gateway serves. Prints "DRIVEN op ..." naming each operation answered
both ways and "LACKING op ..." naming those of OP the client does not
know, then OK; on a failed check, FAILED and what failed, and exits 1.
"""
import contextlib
import io
import json
import re
import sys
import time

PORT, CLIENT, OPS = sys.argv[1], sys.argv[2], sys.argv[3:]
if CLIENT == "cli":
    # First: Debian's AWS CLI v2 puts its own botocore in botocore's place.
    import awscli.clidriver
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

from sfn_client import client  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/tests"
M = "arn:aws:states:us-east-1:123456789012:stateMachine:"
X = "arn:aws:states:us-east-1:123456789012:execution:"
ACT = "arn:aws:states:us-east-1:123456789012:activity:"


def words(op):
    return re.sub(r"(?<!^)(?=[A-Z])", " ", op).lower().split()


class Cli:
    """`aws stepfunctions OPERATION --member value ...` (structures as
    JSON; nextToken as the CLI's --starting-token, a member the CLI
    renames by its new name) with --output json: the answer parsed, or the
    error the CLI printed raised as botocore's ClientError, without an
    HTTP status (the CLI prints none). One CLI driver serves every call."""

    def __init__(self):
        import awscli
        import awscli.clidriver
        from awscli.customizations.argrename import ARGUMENT_RENAMES
        self.version = awscli.__version__
        self.v2 = hasattr(awscli.clidriver, "AWSCLIEntryPoint")
        self.driver = awscli.clidriver.create_clidriver()
        self.entry = awscli.clidriver.AWSCLIEntryPoint(self.driver) \
            if self.v2 else self.driver
        self.renames = ARGUMENT_RENAMES
        self.known = set(self.driver.session.get_service_model(
            "stepfunctions").operation_names)

    def run(self, args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = self.entry.main(args)
            except SystemExit as e:  # its argument parser's
                rc = e.code
        return rc, out.getvalue(), err.getvalue()

    def option(self, command, key):
        """The option of the member `key`, as the CLI names it."""
        if key == "nextToken":
            return "--starting-token"
        name = "-".join(words(key))
        return "--" + self.renames.get("stepfunctions.%s.%s" % (command, name),
                                       name)

    def call(self, op, params):
        # StartSyncExecution and TestState go to sync- + the host, and
        # Debian's CLI has no switch against it: a host whose subdomains
        # resolve (libnss-myhostname).
        host = "sfn.localhost" if op in ("StartSyncExecution",
                                         "TestState") else "127.0.0.1"
        command = "-".join(words(op))
        args = ["stepfunctions", command, "--endpoint-url",
                "http://%s:%s" % (host, PORT), "--output", "json"]
        if self.v2:
            args.append("--no-cli-pager")
        for key, value in params.items():
            name = self.option(command, key)
            if value is True or value is False:
                args.append(name if value else "--no-" + name[2:])
            elif isinstance(value, (list, dict)):
                args += [name, json.dumps(value)]
            else:
                args += [name, str(value)]
        rc, out, err = self.run(args)
        if rc == 0:
            return json.loads(out) if out.strip() else {}
        m = re.search(r"An error occurred \((\w+)\) when calling the "
                      r"(\w+) operation: (.*)", err)
        if not m or m.group(2) != op:
            fail("aws %s: exit %d\n%s%s" % (" ".join(args), rc, out, err))
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": m.group(1), "Message": m.group(3)}}, op)


if CLIENT == "cli":
    cli = Cli()
    KNOWN = cli.known
    MODEL = cli.driver.session.get_service_model("stepfunctions")
    VERSION = "AWS CLI " + cli.version

    def method(op):
        return lambda **params: cli.call(op, params)
else:
    import boto3
    # StartSyncExecution and TestState would go to sync-127.0.0.1; a poll
    # of GetActivityTask may last 60 s.
    sfn = client(PORT, config=botocore.config.Config(
        inject_host_prefix=False, read_timeout=70))
    KNOWN = set(sfn.meta.service_model.operation_names)
    MODEL = sfn.meta.service_model
    VERSION = "boto3 " + boto3.__version__

    def method(op):
        return getattr(sfn, "_".join(words(op)))



def fail(what):
    print("FAILED (%s): %s" % (VERSION, what))
    sys.exit(1)


def check(cond, what):
    if not cond:
        fail(what)


# Operation -> {"ok": n, "error": n}: the answers the gateway gave.
answered = {}


def has(*ops):
    return all(op in KNOWN for op in ops)


def takes(op, member):
    """Whether the client's model of `op` has the request member."""
    return member in MODEL.operation_model(op).input_shape.members


def note(op, how):
    answered.setdefault(op, {"ok": 0, "error": 0})[how] += 1


def call(op, **params):
    """`op` with `params`: the answer."""
    try:
        r = method(op)(**params)
    except botocore.exceptions.ClientError as e:
        fail("%s %r: %s" % (op, params, e))
    note(op, "ok")
    return r


def refused(op, want, **params):
    """`op` with `params` must be refused with the error `want`."""
    try:
        r = method(op)(**params)
    except botocore.exceptions.ClientError as e:
        got = (e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
               e.response["Error"]["Code"])
        check(got[0] in (400, None) and got[1] == want,
              "%s %r: %r %s, want %s" % (
                  op, params, got, e.response["Error"].get("Message"), want))
        note(op, "error")
        return
    fail("%s %r answered %r" % (op, params, r))


def execution_ended(arn):
    """DescribeExecution once the execution is no longer RUNNING."""
    for _ in range(500):
        x = call("DescribeExecution", executionArn=arn)
        if x["status"] != "RUNNING":
            return x
        time.sleep(0.02)
    fail("%s did not end" % arn)


def machine(name, state, **extra):
    return call("CreateStateMachine", name=name, roleArn=ROLE,
                definition=json.dumps({"StartAt": "S",
                                       "States": {"S": state}}),
                **extra)["stateMachineArn"]


PASS = {"Type": "Pass", "End": True}
BAD = json.dumps({"StartAt": "Nowhere", "States": {}})


def definition(result):
    return json.dumps({"StartAt": "S", "States": {"S": {
        "Type": "Pass", "Result": result, "End": True}}})


def machines():
    arn = machine("ops", PASS, tags=[{"key": "team", "value": "a"}])
    check(arn == M + "ops", "stateMachineArn %s" % arn)
    refused("CreateStateMachine", "InvalidDefinition", name="ops-bad",
            roleArn=ROLE, definition=BAD)
    d = call("DescribeStateMachine", stateMachineArn=arn)
    check(d["name"] == "ops" and d["status"] == "ACTIVE", "describe %r" % d)
    refused("DescribeStateMachine", "StateMachineDoesNotExist",
            stateMachineArn=M + "none")
    listed = call("ListStateMachines")["stateMachines"]
    check(any(m["stateMachineArn"] == arn for m in listed), "listed")
    refused("ListStateMachines", "InvalidToken", nextToken="bogus")
    if has("PublishStateMachineVersion"):
        u = call("UpdateStateMachine", stateMachineArn=arn, publish=True,
                 definition=definition(1))
        check(u["stateMachineVersionArn"] == arn + ":1", "published %r" % u)
    else:
        call("UpdateStateMachine", stateMachineArn=arn,
             definition=definition(1))
    refused("UpdateStateMachine", "StateMachineDoesNotExist",
            stateMachineArn=M + "none", roleArn=ROLE)
    if has("ValidateStateMachineDefinition"):
        v = call("ValidateStateMachineDefinition", definition=json.dumps(
            {"StartAt": "S", "States": {"S": PASS}}))
        check(v["result"] == "OK", "validate %r" % v)
        v = call("ValidateStateMachineDefinition", definition=BAD)
        check(v["result"] == "FAIL" and v["diagnostics"],
              "validate a bad one %r" % v)
        refused("ValidateStateMachineDefinition", "ValidationException",
                definition=BAD, maxResults=101)
    # A revision not yet published (publishing one again answers its
    # version).
    call("UpdateStateMachine", stateMachineArn=arn, definition=definition(2))
    if has("PublishStateMachineVersion", "ListStateMachineVersions"):
        p = call("PublishStateMachineVersion", stateMachineArn=arn,
                 description="second")
        check(p["stateMachineVersionArn"] == arn + ":2", "published %r" % p)
        refused("PublishStateMachineVersion", "StateMachineDoesNotExist",
                stateMachineArn=M + "none")
        vs = call("ListStateMachineVersions", stateMachineArn=arn)
        check(len(vs["stateMachineVersions"]) == 2, "two versions %r" % vs)
        refused("ListStateMachineVersions", "InvalidArn",
                stateMachineArn="nope")
    return arn


def aliases(arn):
    a = call("CreateStateMachineAlias", name="live", routingConfiguration=[
        {"stateMachineVersionArn": arn + ":1", "weight": 100}])[
        "stateMachineAliasArn"]
    check(a == arn + ":live", "alias %s" % a)
    refused("CreateStateMachineAlias", "ConflictException", name="live",
            routingConfiguration=[
                {"stateMachineVersionArn": arn + ":2", "weight": 100}])
    d = call("DescribeStateMachineAlias", stateMachineAliasArn=a)
    check(d["name"] == "live", "alias described %r" % d)
    refused("DescribeStateMachineAlias", "ResourceNotFound",
            stateMachineAliasArn=arn + ":none")
    listed = call("ListStateMachineAliases", stateMachineArn=arn)
    check(len(listed["stateMachineAliases"]) == 1, "alias listed")
    refused("ListStateMachineAliases", "StateMachineDoesNotExist",
            stateMachineArn=M + "none")
    call("UpdateStateMachineAlias", stateMachineAliasArn=a,
         routingConfiguration=[
             {"stateMachineVersionArn": arn + ":1", "weight": 50},
             {"stateMachineVersionArn": arn + ":2", "weight": 50}])
    refused("UpdateStateMachineAlias", "ResourceNotFound",
            stateMachineAliasArn=arn + ":none", description="x")
    x = call("StartExecution", stateMachineArn=a, name="via")["executionArn"]
    e = execution_ended(x)
    check(e.get("stateMachineAliasArn") == a and e["status"] == "SUCCEEDED",
          "through the alias %r" % e)
    refused("DeleteStateMachineVersion", "ConflictException",
            stateMachineVersionArn=arn + ":2")
    call("DeleteStateMachineAlias", stateMachineAliasArn=a)
    refused("DeleteStateMachineAlias", "InvalidArn",
            stateMachineAliasArn="nope")
    call("DeleteStateMachineVersion", stateMachineVersionArn=arn + ":2")


def tags(arn):
    call("TagResource", resourceArn=arn, tags=[{"key": "env", "value": "dev"}])
    refused("TagResource", "ResourceNotFound", resourceArn=M + "none",
            tags=[{"key": "k", "value": "v"}])
    call("UntagResource", resourceArn=arn, tagKeys=["team"])
    refused("UntagResource", "ResourceNotFound", resourceArn=M + "none",
            tagKeys=["k"])
    t = call("ListTagsForResource", resourceArn=arn)["tags"]
    check(t == [{"key": "env", "value": "dev"}], "tags %r" % t)
    refused("ListTagsForResource", "ResourceNotFound", resourceArn=M + "none")


def executions(arn):
    x = call("StartExecution", stateMachineArn=arn, name="one",
             input='{"a":1}')["executionArn"]
    check(x == X + "ops:one", "executionArn %s" % x)
    refused("StartExecution", "StateMachineDoesNotExist",
            stateMachineArn=M + "none")
    e = execution_ended(x)
    check(e["status"] == "SUCCEEDED" and e["output"] == "2", "one %r" % e)
    refused("DescribeExecution", "ExecutionDoesNotExist",
            executionArn=X + "ops:none")
    listed = call("ListExecutions", stateMachineArn=arn)["executions"]
    check(any(i["executionArn"] == x for i in listed), "execution listed")
    refused("ListExecutions", "StateMachineDoesNotExist",
            stateMachineArn=M + "none")
    events = call("GetExecutionHistory", executionArn=x)["events"]
    check(events[0]["type"] == "ExecutionStarted" and
          events[-1]["type"] == "ExecutionSucceeded", "history")
    refused("GetExecutionHistory", "ExecutionDoesNotExist",
            executionArn=X + "ops:none")
    f = call("DescribeStateMachineForExecution", executionArn=x)
    check(f["stateMachineArn"] == arn, "the machine of the execution")
    refused("DescribeStateMachineForExecution", "ExecutionDoesNotExist",
            executionArn=X + "ops:none")
    express = machine("ops-express", {
        "Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, $.n)"},
        "End": True}, type="EXPRESS")
    s = call("StartSyncExecution", stateMachineArn=express, input='{"n":21}')
    check(s["status"] == "SUCCEEDED" and s["output"] == '{"n":42}',
          "sync start %r" % s)
    refused("StartSyncExecution", "StateMachineTypeNotSupported",
            stateMachineArn=arn)
    if has("RedriveExecution"):
        refused("RedriveExecution", "ExecutionNotRedrivable", executionArn=x)
    call("DeleteStateMachine", stateMachineArn=express)
    refused("DeleteStateMachine", "InvalidArn", stateMachineArn="nope")


def task(activity):
    """The next task of the activity: one is queued, so the poll answers at
    once."""
    t = call("GetActivityTask", activityArn=activity, workerName="ops")
    check(t.get("taskToken"), "no task %r" % t)
    return t["taskToken"]


def activities():
    act = call("CreateActivity", name="ops-act")["activityArn"]
    check(act == ACT + "ops-act", "activityArn %s" % act)
    refused("CreateActivity", "InvalidName", name="a b")
    d = call("DescribeActivity", activityArn=act)
    check(d["name"] == "ops-act", "activity described")
    refused("DescribeActivity", "ActivityDoesNotExist",
            activityArn=ACT + "none")
    listed = call("ListActivities")["activities"]
    check(any(a["activityArn"] == act for a in listed), "activity listed")
    refused("ListActivities", "InvalidToken", nextToken="bogus")
    w = machine("ops-wait", {"Type": "Task", "Resource": act,
                             "HeartbeatSeconds": 60, "End": True})

    def start(name):
        return call("StartExecution", stateMachineArn=w, name=name,
                    input="{}")["executionArn"]

    # Answered with success; then the same token is spent.
    good = start("good")
    token = task(act)
    call("SendTaskHeartbeat", taskToken=token)
    call("SendTaskSuccess", taskToken=token, output='{"y":2}')
    check(execution_ended(good)["output"] == '{"y":2}', "answered")
    refused("SendTaskSuccess", "TaskTimedOut", taskToken=token, output="{}")
    refused("SendTaskHeartbeat", "TaskTimedOut", taskToken=token)
    # Answered with a failure, then redriven and answered with success.
    bad = start("bad")
    token = task(act)
    call("SendTaskFailure", taskToken=token, error="Oops", cause="on purpose")
    refused("SendTaskFailure", "InvalidToken", taskToken="bogus", error="E")
    e = execution_ended(bad)
    check(e["status"] == "FAILED" and e["error"] == "Oops", "failed %r" % e)
    if has("RedriveExecution"):
        call("RedriveExecution", executionArn=bad)
        call("SendTaskSuccess", taskToken=task(act), output="{}")
        e = execution_ended(bad)
        check(e["status"] == "SUCCEEDED" and e["redriveCount"] == 1,
              "redriven %r" % e)
    # Stopped while its task is out (taken, so none stays queued).
    stopped = start("stopped")
    task(act)
    call("StopExecution", executionArn=stopped, error="Halt")
    check(execution_ended(stopped)["status"] == "ABORTED", "stopped")
    refused("StopExecution", "ExecutionDoesNotExist",
            executionArn=X + "ops-wait:none")
    return act


def map_runs(act):
    m = machine("ops-map", {
        "Type": "Map", "MaxConcurrency": 1,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED",
                                "ExecutionType": "STANDARD"},
            "StartAt": "T",
            "States": {"T": {"Type": "Task", "Resource": act, "End": True}}},
        "End": True})
    x = call("StartExecution", stateMachineArn=m, name="fan",
             input="[1,2]")["executionArn"]
    # A child waits for its task: the Map Run is running.
    task(act)
    runs = call("ListMapRuns", executionArn=x)["mapRuns"]
    check(len(runs) == 1, "map runs %r" % runs)
    run = runs[0]["mapRunArn"]
    refused("ListMapRuns", "ExecutionDoesNotExist",
            executionArn=X + "ops-map:none")
    d = call("DescribeMapRun", mapRunArn=run)
    check(d["status"] == "RUNNING" and d["maxConcurrency"] == 1,
          "map run %r" % d)
    refused("DescribeMapRun", "ResourceNotFound", mapRunArn=run + "0")
    call("UpdateMapRun", mapRunArn=run, maxConcurrency=2)
    refused("UpdateMapRun", "ResourceNotFound", mapRunArn=run + "0",
            maxConcurrency=2)
    d = call("DescribeMapRun", mapRunArn=run)
    check(d["maxConcurrency"] == 2, "updated %r" % d)
    if takes("ListExecutions", "mapRunArn"):
        # A child execution's own history, newest first, and the state
        # machine its Map Run runs.
        kids = call("ListExecutions", mapRunArn=run)["executions"]
        kid = kids[-1]["executionArn"]
        ids = [e["id"] for e in call("GetExecutionHistory", executionArn=kid,
                                     reverseOrder=True)["events"]]
        check(len(ids) >= 3 and ids == list(range(len(ids), 0, -1)),
              "child history %r" % ids)
        refused("GetExecutionHistory", "ExecutionDoesNotExist",
                executionArn=kid + "0")
        km = call("DescribeStateMachineForExecution", executionArn=kid)
        check(km["stateMachineArn"] == m + "/S" and
              km.get("mapRunArn", run) == run and
              km.get("label", "S") == "S", "child machine %r" % km)
        refused("DescribeStateMachineForExecution", "ExecutionDoesNotExist",
                executionArn=kid + "0")
    call("StopExecution", executionArn=x)
    check(execution_ended(x)["status"] == "ABORTED", "map stopped")
    call("DeleteActivity", activityArn=act)
    refused("DeleteActivity", "InvalidArn", activityArn="nope")
    refused("GetActivityTask", "ActivityDoesNotExist", activityArn=act)


def test_state():
    r = call("TestState", definition=json.dumps(
        {"Type": "Pass", "Next": "After"}), roleArn=ROLE, input='{"a":1}')
    check(r["status"] == "SUCCEEDED" and r["nextState"] == "After",
          "TestState %r" % r)
    refused("TestState", "InvalidDefinition", definition='{"Type":"Pass"}',
            roleArn=ROLE)


arn = machines()
if has("CreateStateMachineAlias", "PublishStateMachineVersion"):
    aliases(arn)
tags(arn)
executions(arn)
map_runs(activities())
if has("TestState"):
    test_state()
print("DRIVEN " + " ".join(sorted(
    op for op, seen in answered.items() if seen["ok"] and seen["error"])))
print("LACKING " + " ".join(sorted(op for op in OPS if op not in KNOWN)))
print("OK")
