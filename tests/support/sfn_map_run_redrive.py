"""A Map Run's child redriven with its parent, through wf-gateway with
boto3 (one that has RedriveExecution: 1.34 and later).

Run by tests/test_gateway_sfn_map_runs.c: python3 sfn_map_run_redrive.py
PORT EXECUTION_ARN MAP_RUN_ARN, the execution FAILED in its Distributed
Map: of its three STANDARD children (inputs 1, 2, 3; one at a time) the
first succeeded, the second failed (it succeeds once redriven) and the
third never started. Prints OK and exits 0 when every check holds;
otherwise the failed check.
"""
import sys

from sfn_client import check, client, ended

PORT, EXEC, RUN = sys.argv[1], sys.argv[2], sys.argv[3]
sfn = client(PORT)


def children(**filters):
    """The run's children ListExecutions gives, by input, in its order."""
    pages = sfn.get_paginator("list_executions")
    kids = [k for p in pages.paginate(mapRunArn=RUN,
                                      PaginationConfig={"PageSize": 1},
                                      **filters)
            for k in p["executions"]]
    return {sfn.describe_execution(executionArn=k["executionArn"])["input"]:
            k for k in kids}


failed = children()["2"]
check(failed["status"] == "FAILED" and failed["redriveCount"] == 0 and
      "redriveDate" not in failed, "the failed child: %r" % failed)
check(children(redriveFilter="REDRIVEN") == {}, "REDRIVEN before the redrive")
sfn.redrive_execution(executionArn=EXEC)
check(ended(sfn, EXEC)["status"] == "SUCCEEDED", "the redriven parent")

redriven = children(redriveFilter="REDRIVEN")
check(list(redriven) == ["2"] and redriven["2"]["redriveCount"] == 1 and
      "redriveDate" in redriven["2"], "REDRIVEN: %r" % redriven)
others = children(redriveFilter="NOT_REDRIVEN")
check(sorted(others) == ["1", "3"] and
      all(k["redriveCount"] == 0 for k in others.values()),
      "NOT_REDRIVEN: %r" % others)
arn = failed["executionArn"]
d = sfn.describe_execution(executionArn=arn)
check(d["status"] == "SUCCEEDED" and d["redriveCount"] == 1 and
      d["redriveDate"] >= d["startDate"] and
      d["startDate"] == failed["startDate"] and d["mapRunArn"] == RUN,
      "describe_execution of the redriven child: %r" % d)
m = sfn.describe_map_run(mapRunArn=RUN)
check(m["redriveCount"] == 1 and "redriveDate" in m,
      "describe_map_run: %r" % m)

# Its history, in pages of three either way: the first run, then
# ExecutionRedriven and the rerun.
pages = sfn.get_paginator("get_execution_history")
events = [e for p in pages.paginate(executionArn=arn,
                                    PaginationConfig={"PageSize": 3})
          for e in p["events"]]
types = [e["type"] for e in events]
check([e["id"] for e in events] == list(range(1, len(events) + 1)),
      "ids: %r" % events)
# The rerun enters the state the child failed in (its Choice) again.
check(types[:5] == ["ExecutionStarted", "ChoiceStateEntered",
                    "ExecutionFailed", "ExecutionRedriven",
                    "ChoiceStateEntered"] and
      types[-1] == "ExecutionSucceeded", "types: %r" % types)
redrive = events[3]
check(redrive["executionRedrivenEventDetails"] == {"redriveCount": 1} and
      redrive["previousEventId"] == 3 and events[4]["previousEventId"] == 4,
      "ExecutionRedriven: %r" % redrive)
back = [e for p in pages.paginate(executionArn=arn, reverseOrder=True,
                                  PaginationConfig={"PageSize": 3})
        for e in p["events"]]
check(back == list(reversed(events)), "newest first: %r" % back)
print("OK")
