"""ListMapRuns, DescribeMapRun, UpdateMapRun and a Map Run's child
executions (ListExecutions with mapRunArn, DescribeExecution,
GetExecutionHistory, DescribeStateMachineForExecution) through wf-gateway
with boto3.

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
# The child's own history, in pages of two either way.
pages = sfn.get_paginator("get_execution_history")
events = [e for p in pages.paginate(executionArn=k["executionArn"],
                                    PaginationConfig={"PageSize": 2})
          for e in p["events"]]
if [e["id"] for e in events] != list(range(1, len(events) + 1)) or \
        len(events) < 3 or events[0]["type"] != "ExecutionStarted" or \
        events[0]["executionStartedEventDetails"]["input"] != "1":
    fail("get_execution_history of a child: %r" % events)
back = [e for p in pages.paginate(executionArn=k["executionArn"],
                                  reverseOrder=True,
                                  PaginationConfig={"PageSize": 2})
        for e in p["events"]]
if [e["id"] for e in back] != [e["id"] for e in reversed(events)]:
    fail("get_execution_history of a child, newest first: %r" % back)
m = sfn.describe_state_machine_for_execution(executionArn=k["executionArn"])
if m["mapRunArn"] != RUN or m["stateMachineArn"] != runs[0]["stateMachineArn"] \
        or m["label"] != RUN.split("/")[-1].split(":")[0] or \
        '"ProcessorConfig"' in m["definition"]:
    fail("describe_state_machine_for_execution of a child: %r" % m)
GONE = k["executionArn"][:-1] + ("0" if k["executionArn"][-1] != "0" else "1")
refused(lambda: sfn.get_execution_history(executionArn=GONE),
        "ExecutionDoesNotExist", "an unknown child's history was read")
refused(lambda: sfn.describe_state_machine_for_execution(executionArn=GONE),
        "ExecutionDoesNotExist", "an unknown child's machine was described")
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
last = sfn.get_execution_history(executionArn=k["executionArn"],
                                 reverseOrder=True, maxResults=1)["events"]
if [e["type"] for e in last] != ["ExecutionAborted"] or \
        last[0]["id"] != events[-1]["id"] + 1:
    fail("a stopped child's history: %r" % last)
print("OK")
