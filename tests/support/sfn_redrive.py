"""RedriveExecution through wf-gateway with boto3 (one that has it: 1.34
and later; Debian 12's 1.26.27 predates it).

Run by tests/test_gateway_sfn_redrive.c: python3 sfn_redrive.py PORT ARN,
ARN naming a FAILED execution whose failed Map iterations succeed once
redriven. Requests are signed (the gateway checks SigV4). Prints OK and
exits 0 when every check holds; otherwise the failed check.
"""
import sys
import time

import botocore.exceptions

from sfn_client import client, fail

PORT, ARN = sys.argv[1], sys.argv[2]
sfn = client(PORT)

before = sfn.describe_execution(executionArn=ARN)
if before["redriveStatus"] != "REDRIVABLE" or before["redriveCount"] != 0:
    fail("before: %r" % before)
# boto3 makes a clientToken of its own: sent again, answered again.
first = sfn.redrive_execution(executionArn=ARN, clientToken="boto3-token")
again = sfn.redrive_execution(executionArn=ARN, clientToken="boto3-token")
if first["redriveDate"] != again["redriveDate"]:
    fail("the token was not answered again: %r %r" % (first, again))
for _ in range(200):
    x = sfn.describe_execution(executionArn=ARN)
    if x["status"] != "RUNNING":
        break
    time.sleep(0.05)
if x["status"] != "SUCCEEDED" or x["redriveCount"] != 1:
    fail("after: %r" % x)
if x["redriveDate"] != first["redriveDate"]:
    fail("redriveDate %r, answered %r" % (x["redriveDate"], first))
if x["redriveStatusReason"] != "Execution is SUCCEEDED and cannot be redriven":
    fail("reason: %r" % x)
try:
    sfn.redrive_execution(executionArn=ARN)
    fail("redriven twice")
except botocore.exceptions.ClientError as e:
    if e.response["Error"]["Code"] != "ExecutionNotRedrivable":
        fail("error: %r" % e.response)
events = sfn.get_execution_history(executionArn=ARN)["events"]
redriven = [e for e in events if e["type"] == "ExecutionRedriven"]
if len(redriven) != 1 or \
        redriven[0]["executionRedrivenEventDetails"]["redriveCount"] != 1:
    fail("history: %r" % redriven)
listed = sfn.list_executions(stateMachineArn=x["stateMachineArn"],
                             redriveFilter="REDRIVEN")["executions"]
if [e["name"] for e in listed] != ["by-boto3", "by-cli"] or \
        listed[0]["redriveCount"] != 1:
    fail("list: %r" % listed)
print("OK")
