"""Every activity operation through wf-gateway with boto3.

Run by tests/test_gateway_sfn_activities.c: python3 sfn_activities.py PORT.
Creates the activity "b3" and a machine on it, starts an execution, then
drives CreateActivity (twice: idempotent), DescribeActivity,
ListActivities, GetActivityTask, SendTaskHeartbeat, SendTaskSuccess,
DeleteActivity and the errors AWS gives (InvalidName, InvalidArn,
ActivityDoesNotExist, TaskTimedOut); the caller checks that the
execution b3-run ends with the output sent. Prints OK and exits 0 when every
check holds; otherwise the failed check.
"""
import json
import sys

import botocore.config
import botocore.exceptions

from sfn_client import check, client, fail

PORT = sys.argv[1]
ACT = "arn:aws:states:us-east-1:123456789012:activity:b3"
sfn = client(PORT, config=botocore.config.Config(read_timeout=70))


def error_of(call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    fail("%s did not fail" % call.__name__)


created = sfn.create_activity(name="b3", tags=[{"key": "k", "value": "v"}])
check(created["activityArn"] == ACT, "activityArn %s" % created)
again = sfn.create_activity(name="b3")
check(again["creationDate"] == created["creationDate"], "not idempotent")
described = sfn.describe_activity(activityArn=ACT)
check(described["name"] == "b3", "describe %s" % described)
listed = sfn.list_activities()["activities"]
check([a["name"] for a in listed] == ["b3"], "list %s" % listed)
check(error_of(sfn.create_activity, name="a b") ==
      ("InvalidName", "Invalid Name: 'a b'"), "InvalidName")
check(error_of(sfn.describe_activity, activityArn=ACT + "x") ==
      ("ActivityDoesNotExist", "Activity Does Not Exist: '%sx'" % ACT),
      "ActivityDoesNotExist")
check(error_of(sfn.get_activity_task, activityArn="nope")[0] == "InvalidArn",
      "InvalidArn")

definition = {"StartAt": "T", "States": {"T": {
    "Type": "Task", "Resource": ACT, "HeartbeatSeconds": 30, "End": True}}}
machine = sfn.create_state_machine(
    name="b3", roleArn="arn:aws:iam::123456789012:role/tests",
    definition=json.dumps(definition))["stateMachineArn"]
sfn.start_execution(stateMachineArn=machine, name="b3-run", input='{"x":1}')
task = sfn.get_activity_task(activityArn=ACT, workerName="boto3")
token = task.get("taskToken")
check(token and json.loads(task["input"]) == {"x": 1}, "task %s" % task)
sfn.send_task_heartbeat(taskToken=token)
sfn.send_task_success(taskToken=token, output='{"y":2}')
check(error_of(sfn.send_task_success, taskToken=token,
               output="{}")[0] == "TaskTimedOut", "TaskTimedOut")
sfn.delete_activity(activityArn=ACT)
sfn.delete_activity(activityArn=ACT)
check(error_of(sfn.get_activity_task, activityArn=ACT)[0] ==
      "ActivityDoesNotExist", "GetActivityTask after DeleteActivity")
print("OK")
