"""ListMapRuns, DescribeMapRun, UpdateMapRun and a Map Run's child
executions (ListExecutions with mapRunArn, DescribeExecution) through
wf-gateway with boto3.

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


def refused(call, error, what):
    """call() must fail with sfn.exceptions.<error>."""
    try:
        call()
    except getattr(sfn.exceptions, error):
        return
    fail(what)


refused(lambda: sfn.describe_map_run(mapRunArn=RUN + "0"),
        "ResourceNotFound", "an unknown Map Run was described")
refused(lambda: sfn.list_map_runs(executionArn=EXEC + "0"),
        "ExecutionDoesNotExist", "an unknown execution was listed")
refused(lambda: sfn.describe_map_run(mapRunArn=EXEC),
        "InvalidArn", "an execution ARN was taken for a Map Run")
kids = sfn.list_executions(mapRunArn=RUN)["executions"]
if len(kids) != 2 or any(k["mapRunArn"] != RUN or k["status"] != "RUNNING"
                         or k["itemCount"] != 1 for k in kids):
    fail("list_executions(mapRunArn): %r" % kids)
if not kids[0]["executionArn"].startswith(
        RUN.split(":mapRun:")[0] + ":execution:"):
    fail("a child's ARN: %r" % kids[0])
k = sfn.describe_execution(executionArn=kids[-1]["executionArn"])
if k["mapRunArn"] != RUN or k["input"] != "1" or k["status"] != "RUNNING":
    fail("describe_execution of a child: %r" % k)
refused(lambda: sfn.list_executions(mapRunArn=RUN + "0"),
        "ResourceNotFound", "an unknown Map Run's children were listed")
refused(lambda: sfn.list_executions(mapRunArn=EXEC), "InvalidArn",
        "an execution ARN was taken for a Map Run")
sfn.stop_execution(executionArn=EXEC)
for _ in range(200):
    d = sfn.describe_map_run(mapRunArn=RUN)
    if d["status"] != "RUNNING":
        break
    time.sleep(0.05)
if d["status"] != "ABORTED" or "stopDate" not in d:
    fail("after stop_execution: %r" % d)
print("OK")
