#!/usr/bin/env python3
"""An activity worker for wf-gateway (or AWS Step Functions) with boto3.

It polls an activity with GetActivityTask, greets the task's input
({"name": ...} becomes {"greeting": "Hello, ...!"}) and answers with
SendTaskSuccess, or SendTaskFailure when the input has no name.

    python3 worker.py --endpoint http://127.0.0.1:8080 \
        --activity-arn arn:aws:states:us-east-1:123456789012:activity:greet

Credentials and region come from the environment as for any boto3 client
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION).
"""
import argparse
import json
import sys
from typing import Any, Dict

import boto3
from botocore.config import Config


def handle(task_input: Dict[str, Any]) -> Dict[str, Any]:
    """The work: a result, or raise to fail the task."""
    name = task_input.get("name")
    if not isinstance(name, str):
        raise ValueError("the input has no name")
    return {"greeting": f"Hello, {name}!"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint", help="the service's URL (default: AWS)")
    ap.add_argument("--activity-arn", required=True)
    ap.add_argument("--worker-name", default="python-worker")
    ap.add_argument("--max-tasks", type=int, default=0,
                    help="stop after this many tasks (0: never)")
    args = ap.parse_args()
    # A poll lasts up to 60 s: the read timeout must be longer (AWS advises
    # at least 65 s).
    sfn = boto3.client("stepfunctions", endpoint_url=args.endpoint,
                       config=Config(read_timeout=70, retries={"max_attempts": 2}))
    done = 0
    while not args.max_tasks or done < args.max_tasks:
        task = sfn.get_activity_task(activityArn=args.activity_arn,
                                     workerName=args.worker_name)
        token = task.get("taskToken")
        if not token:  # the poll's time ran out: poll again
            continue
        try:
            result = handle(json.loads(task["input"]))
        except Exception as e:  # the task fails with the exception's name
            sfn.send_task_failure(taskToken=token, error=type(e).__name__,
                                  cause=str(e))
        else:
            sfn.send_task_success(taskToken=token, output=json.dumps(result))
        done += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
