"""What the boto3 scripts of the gateway's tests share: a Step Functions
client for wf-gateway on this machine, signing with the tests' key, and
the way a failed check ends a script (FAILED and exit 1; the test prints
the script's output)."""
import sys
import time

import boto3


def client(port, host="127.0.0.1", config=None):
    return boto3.client(
        "stepfunctions", endpoint_url="http://%s:%s" % (host, port),
        region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=config)


def fail(what):
    print("FAILED (boto3 %s): %s" % (boto3.__version__, what))
    sys.exit(1)


def check(cond, what):
    if not cond:
        fail(what)


def ended(sfn, arn):
    """DescribeExecution once the execution is no longer RUNNING (10 s at
    most)."""
    for _ in range(500):
        x = sfn.describe_execution(executionArn=arn)
        if x["status"] != "RUNNING":
            return x
        time.sleep(0.02)
    fail("%s did not end" % arn)
