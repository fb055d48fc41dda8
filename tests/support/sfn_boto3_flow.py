"""Drive wf-gateway's AWS Step Functions API with boto3, as a user would:
tags, logging and tracing configuration, DescribeStateMachineForExecution
and, with "aliases", state machine aliases (boto3 1.26.137 or later: older
ones, Debian 12's among them, predate them). Run by
tests/test_gateway_sfn_api.c: python3 sfn_boto3_flow.py PORT basic|aliases.
Prints OK and exits 0 when every check holds; otherwise the failed check.
"""
import json
import sys

import boto3
import botocore.exceptions

from sfn_client import client, ended

PORT, MODE = sys.argv[1], sys.argv[2]
ROLE = "arn:aws:iam::123456789012:role/tests"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
LOGS = "arn:aws:logs:us-east-1:123456789012:log-group:flows:*"

sfn = client(PORT)


def check(cond, what):
    if not cond:
        print("FAILED: %s" % what)
        sys.exit(1)


def error_of(call, **kwargs):
    """The error code and botocore's parsed error of a call that fails."""
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response
    check(False, "%s(%r) succeeded" % (call.__name__, kwargs))


def basic(name):
    arn = sfn.create_state_machine(
        name=name, roleArn=ROLE, definition=json.dumps(PASS),
        tags=[{"key": "team", "value": "a"}],
        loggingConfiguration={
            "level": "ALL", "includeExecutionData": True,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": LOGS}}]},
        tracingConfiguration={"enabled": True})["stateMachineArn"]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "b"},
                                            {"key": "env", "value": "dev"}])
    tags = sfn.list_tags_for_resource(resourceArn=arn)["tags"]
    check(tags == [{"key": "team", "value": "b"}, {"key": "env", "value": "dev"}],
          "tags %r" % tags)
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    tags = sfn.list_tags_for_resource(resourceArn=arn)["tags"]
    check(tags == [{"key": "env", "value": "dev"}], "tags after untag %r" % tags)
    code, resp = error_of(sfn.tag_resource, resourceArn=arn + "-none",
                          tags=[{"key": "k", "value": "v"}])
    check(code == "ResourceNotFound", code)
    check(resp.get("resourceName") == arn + "-none", resp)
    code, _ = error_of(sfn.tag_resource, resourceArn=arn, tags=[
        {"key": "k%d" % i, "value": "v"} for i in range(50)])
    check(code == "TooManyTags", code)

    d = sfn.describe_state_machine(stateMachineArn=arn)
    check(d["loggingConfiguration"]["level"] == "ALL", d)
    check(d["loggingConfiguration"]["destinations"][0]
          ["cloudWatchLogsLogGroup"]["logGroupArn"] == LOGS, d)
    check(d["tracingConfiguration"] == {"enabled": True}, d)
    code, _ = error_of(sfn.update_state_machine, stateMachineArn=arn,
                       loggingConfiguration={"level": "ERROR"})
    check(code == "InvalidLoggingConfiguration", code)

    x = sfn.start_execution(stateMachineArn=arn, name="first")["executionArn"]
    ended(sfn, x)
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
        {"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}}))
    f = sfn.describe_state_machine_for_execution(executionArn=x)
    check(json.loads(f["definition"]) == PASS, f)
    check(f["stateMachineArn"] == arn and f["name"] == name, f)
    check(f["loggingConfiguration"]["level"] == "ALL", f)
    return arn


def aliases(name):
    arn = sfn.create_state_machine(
        name=name, roleArn=ROLE, definition=json.dumps(PASS),
        publish=True)["stateMachineArn"]
    v2 = sfn.update_state_machine(
        stateMachineArn=arn, publish=True, definition=json.dumps(
            {"StartAt": "Q", "States": {"Q": {"Type": "Pass", "Result": 2,
                                              "End": True}}}))[
        "stateMachineVersionArn"]
    v1 = arn + ":1"
    alias = sfn.create_state_machine_alias(
        name="live", description="production",
        routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])[
        "stateMachineAliasArn"]
    check(alias == arn + ":live", alias)
    code, _ = error_of(sfn.create_state_machine_alias, name="live",
                       routingConfiguration=[
                           {"stateMachineVersionArn": v2, "weight": 100}])
    check(code == "ConflictException", code)
    sfn.update_state_machine_alias(stateMachineAliasArn=alias,
                                   routingConfiguration=[
                                       {"stateMachineVersionArn": v1,
                                        "weight": 50},
                                       {"stateMachineVersionArn": v2,
                                        "weight": 50}])
    d = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    check(d["name"] == "live" and d["description"] == "production", d)
    check([r["weight"] for r in d["routingConfiguration"]] == [50, 50], d)
    listed = sfn.list_state_machine_aliases(stateMachineArn=arn)
    check([a["stateMachineAliasArn"] for a in
           listed["stateMachineAliases"]] == [alias], listed)
    seen = set()
    for i in range(30):
        x = sfn.start_execution(stateMachineArn=alias, name="r%d" % i)[
            "executionArn"]
        e = ended(sfn, x)
        check(e["stateMachineAliasArn"] == alias, e)
        seen.add(e["stateMachineVersionArn"])
    check(seen == {v1, v2}, "versions drawn: %r" % seen)
    code, _ = error_of(sfn.delete_state_machine_version,
                       stateMachineVersionArn=v2)
    check(code == "ConflictException", code)
    code, _ = error_of(sfn.create_state_machine_alias, name="bad",
                       routingConfiguration=[
                           {"stateMachineVersionArn": v1, "weight": 60},
                           {"stateMachineVersionArn": v2, "weight": 30}])
    check(code == "ValidationException", code)
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    code, _ = error_of(sfn.describe_state_machine_alias,
                       stateMachineAliasArn=alias)
    check(code == "ResourceNotFound", code)
    sfn.delete_state_machine_version(stateMachineVersionArn=v2)


if MODE == "aliases":
    check(hasattr(sfn, "create_state_machine_alias"),
          "boto3 %s has no aliases" % boto3.__version__)
    aliases("boto3-aliases")
else:
    basic("boto3-basic")
print("OK")
