"""ListMapRuns, DescribeMapRun and UpdateMapRun through wf-gateway with
boto3.

Run by tests/test_gateway_sfn_map_runs.c: python3 sfn_map_runs.py PORT
EXECUTION_ARN MAP_RUN_ARN, the execution running a Distributed Map whose
two children wait. Prints OK and exits 0 when every check holds;
otherwise the failed check.
"""
import sys
import time

from sfn_client import client, fail

PORT, EXEC, RUN = sys.argv[1], sys.argv[2], sys.argv[3]
sfn = client(PORT)

runs = sfn.list_map_runs(executionArn=EXEC)["mapRuns"]
if [r["mapRunArn"] for r in runs] != [RUN] or "stopDate" in runs[0]:
    fail("list_map_runs: %r" % runs)
if runs[0]["stateMachineArn"] != RUN.split(":mapRun:")[0] + ":stateMachine:" \
        + RUN.split(":mapRun:")[1].rsplit(":", 1)[0]:
    fail("the Map Run's state machine: %r" % runs[0])
d = sfn.describe_map_run(mapRunArn=RUN)
if d["status"] != "RUNNING" or d["executionCounts"]["total"] != 2 or \
        d["itemCounts"]["total"] != 2 or d["maxConcurrency"] != 2:
    fail("describe_map_run: %r" % d)
sfn.update_map_run(mapRunArn=RUN, maxConcurrency=5,
                   toleratedFailurePercentage=10.0, toleratedFailureCount=1)
d = sfn.describe_map_run(mapRunArn=RUN)
if d["maxConcurrency"] != 5 or d["toleratedFailureCount"] != 1 or \
        d["toleratedFailurePercentage"] != 10.0:
    fail("after update_map_run: %r" % d)
try:
    sfn.describe_map_run(mapRunArn=RUN + "0")
    fail("an unknown Map Run was described")
except sfn.exceptions.ResourceNotFound:
    pass
try:
    sfn.list_map_runs(executionArn=EXEC + "0")
    fail("an unknown execution was listed")
except sfn.exceptions.ExecutionDoesNotExist:
    pass
try:
    sfn.describe_map_run(mapRunArn=EXEC)
    fail("an execution ARN was taken for a Map Run")
except sfn.exceptions.InvalidArn:
    pass
sfn.stop_execution(executionArn=EXEC)
for _ in range(200):
    d = sfn.describe_map_run(mapRunArn=RUN)
    if d["status"] != "RUNNING":
        break
    time.sleep(0.05)
if d["status"] != "ABORTED" or "stopDate" not in d:
    fail("after stop_execution: %r" % d)
print("OK")
