"""Engines from Python: handlers (plain, decorated, with context, async),
failures, mocks, listeners, logs, tokens, stop, plugins and the clock."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from typing import Any, Dict, List

import pytest

import workflow

GREET = "arn:aws:lambda:us-east-1:123456789012:function:Greet"
CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def task_machine(resource: str = GREET, **task: Any) -> workflow.Machine:
    st: Dict[str, Any] = {"Type": "Task", "Resource": resource, "End": True}
    st.update(task)
    return workflow.Machine.from_json({"StartAt": "T", "States": {"T": st}})


RETRY_WAIT = workflow.Machine.from_json({
    "StartAt": "Greet",
    "States": {
        "Greet": {"Type": "Task", "Resource": GREET, "ResultPath": "$.out",
                  "Retry": [{"ErrorEquals": ["Flaky"],
                             "IntervalSeconds": 5}],
                  "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    }})


def test_handler_retry_and_virtual_wait() -> None:
    calls: List[Any] = []
    with workflow.Engine(virtual_time=True) as e:
        @e.handler(GREET)
        def greet(value: Any) -> Any:
            calls.append(value)
            if len(calls) == 1:
                raise workflow.TaskFailed("Flaky", "first call fails")
            return {"greeting": "hello " + value["name"]}

        x = e.run(RETRY_WAIT, {"name": "world"}, correlation_id="c-1")
        assert x.status == "SUCCEEDED"
        assert x.output == {"name": "world",
                            "out": {"greeting": "hello world"}}
        assert len(calls) == 2
        assert x.stop_ms - x.start_ms >= 3605 * 1000  # virtual time passed
        types = [ev["type"] for ev in x.history()]
        assert types.count("LambdaFunctionFailed") == 1
        assert "WaitStateExited" in types
        assert x.history_count == len(types)


def test_context_is_passed_to_two_argument_handlers() -> None:
    seen: Dict[str, Any] = {}

    def greet(value: Any, ctx: workflow.Context) -> Any:
        seen.update(state=ctx.state_name, resource=ctx.resource,
                    attempt=ctx.attempt, corr=ctx.correlation_id,
                    name=ctx.execution_name, token=ctx.token,
                    key=ctx.idempotency_key, redelivered=ctx.redelivered)
        ctx.heartbeat()
        return None

    with workflow.Engine() as e:
        e.register_handler(GREET, greet)
        x = e.run(task_machine(), {}, name="x1", correlation_id="corr")
    assert x.status == "SUCCEEDED" and x.output is None
    assert seen["state"] == "T" and seen["resource"] == GREET
    assert (seen["attempt"], seen["corr"], seen["name"]) == (0, "corr", "x1")
    assert len(seen["token"]) == 32 and not seen["redelivered"]


@pytest.mark.parametrize("raised,error,cause", [
    (ValueError("bad value"), "ValueError", "bad value"),
    (KeyError("k"), "KeyError", "'k'"),
    (workflow.TaskFailed("My.Error", "why"), "My.Error", "why"),
    (workflow.TaskFailed("NoCause"), "NoCause", None),
])
def test_exception_becomes_error_and_cause(raised: BaseException, error: str,
                                           cause: str) -> None:
    def boom(value: Any) -> Any:
        raise raised

    with workflow.Engine() as e:
        e.register_handler(GREET, boom)
        x = e.run(task_machine(), {})
    assert (x.status, x.error, x.cause) == ("FAILED", error, cause)


@pytest.mark.parametrize("value", [{1, 2}, float("nan"), object()])
def test_result_that_is_not_json_fails_the_task(value: Any) -> None:
    with workflow.Engine() as e:
        e.register_handler(GREET, lambda v: value)
        x = e.run(task_machine(), {})
    assert (x.status, x.error) == ("FAILED", "Runtime.MarshalError")
    assert x.cause is not None and "Unable to marshal response" in x.cause


def test_inline_handler_and_prefix_registration() -> None:
    with workflow.Engine() as e:
        e.register_handler("arn:aws:lambda:us-east-1:123456789012:function:",
                           lambda v: "prefix", prefix=True, inline=True)
        assert e.run(task_machine(), {}).output == "prefix"
        e.unregister_handler("arn:aws:lambda:us-east-1:123456789012:"
                             "function:", prefix=True)
        x = e.run(task_machine(), {})
        assert x.error == "Lambda.ResourceNotFoundException"
        with pytest.raises(ValueError):
            async def a(v: Any) -> Any:
                return v
            e.register_handler(GREET, a, inline=True)


def test_duplicate_registration_is_refused() -> None:
    with workflow.Engine() as e:
        e.register_handler(GREET, lambda v: v)
        with pytest.raises(workflow.WorkflowError) as info:
            e.register_handler(GREET, lambda v: v)
        assert info.value.name == "WF_EEXIST"


def test_async_handlers_on_the_shared_loop_and_on_a_given_loop() -> None:
    async def greet(value: Any, ctx: workflow.Context) -> Any:
        await asyncio.sleep(0.001)
        if value.get("fail"):
            raise RuntimeError("async boom")
        return {"state": ctx.state_name}

    for virtual in (True, False):
        with workflow.Engine(virtual_time=virtual) as e:
            e.register_handler(GREET, greet)
            x = e.run(task_machine(TimeoutSeconds=5), {})
            assert (x.status, x.output) == ("SUCCEEDED", {"state": "T"})
            y = e.run(task_machine(TimeoutSeconds=5), {"fail": True})
            assert (y.error, y.cause) == ("RuntimeError", "async boom")

    async def main() -> List[Any]:
        loop = asyncio.get_running_loop()
        with workflow.Engine(loop=loop) as e:
            e.register_handler(GREET, greet)
            xs = [e.start(task_machine(), {}) for _ in range(5)]
            done = await asyncio.gather(*xs)
            return [x.output for x in done]

    assert asyncio.run(main()) == [{"state": "T"}] * 5


def test_await_execution_does_not_block_the_loop() -> None:
    m = workflow.Machine.from_json({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "End": True}}})

    async def main() -> int:
        ticks = 0
        with workflow.Engine() as e:
            x = e.start(m, {"a": 1})

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)
            t = asyncio.ensure_future(tick())
            done = await x
            t.cancel()
            assert done is x and x.output == {"a": 1}
        return ticks

    assert asyncio.run(main()) > 20  # the loop ran during the second


def test_blocking_handler_times_out_on_the_virtual_clock() -> None:
    release = threading.Event()
    cancelled: "queue.Queue[bool]" = queue.Queue()

    def slow(value: Any, ctx: workflow.Context) -> Any:
        release.wait(10)
        cancelled.put(ctx.cancelled())
        return {"late": True}

    with workflow.Engine(virtual_time=True) as e:
        e.register_handler(GREET, slow)
        x = e.start(task_machine(TimeoutSeconds=5), {})
        assert not x.wait(0.05)  # a running handler holds the clock still
        assert e.clock is not None
        e.clock.advance(6000)
        assert x.wait(5)
        assert (x.status, x.error) == ("FAILED", "States.Timeout")
        release.set()
        assert cancelled.get(timeout=5) is True


def test_task_tokens_success_failure_heartbeat() -> None:
    tokens: "queue.Queue[str]" = queue.Queue()

    def park(value: Any, ctx: workflow.Context) -> Any:
        tokens.put(ctx.token)
        return workflow.PENDING

    m = task_machine(CALLBACK, HeartbeatSeconds=60, Parameters={
        "FunctionName": "F", "Payload": {"token.$": "$$.Task.Token"}})
    with workflow.Engine() as e:
        e.register_handler(CALLBACK, park)
        x = e.start(m, {})
        token = tokens.get(timeout=5)
        e.send_task_heartbeat(token)
        e.send_task_success(token, {"approved": True})
        assert x.wait(5) and x.output == {"approved": True}
        with pytest.raises(workflow.WorkflowError) as info:
            e.send_task_success(token, {})
        assert info.value.name == "WF_ENOTFOUND"
        y = e.start(m, {})
        e.send_task_failure(tokens.get(timeout=5), "Denied", "by a human")
        assert y.wait(5)
        assert (y.status, y.error, y.cause) == ("FAILED", "Denied",
                                                "by a human")


def test_stop_and_redrive() -> None:
    m = workflow.Machine.from_json({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    with workflow.Engine() as e:
        x = e.start(m, {})
        assert x.status == "RUNNING"
        assert e.find_execution(x.arn).name == x.name
        assert x.stop("Stopped.ByTest", "enough") is True
        assert x.wait(5)
        assert (x.status, x.error, x.cause) == ("ABORTED", "Stopped.ByTest",
                                                "enough")
        assert x.stop() is False
        # Aborted: redriven, it waits in W again.
        r = x.redrive()
        assert (r.arn, r.status) == (x.arn, "RUNNING")
        assert r.stop() is True
        assert r.wait(5)
        types = [ev["type"] for ev in r.history()]
        assert types.count("ExecutionRedriven") == 1


def test_redrive_reruns_the_failed_task() -> None:
    m = workflow.Machine.from_json({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"n": 1}, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"rc.$": "$$.Execution.RedriveCount"},
              "End": True}}})
    calls: List[int] = []
    with workflow.Engine() as e:
        @e.handler("arn:aws:states:::lambda:invoke")
        def work(value: Any) -> Any:
            calls.append(value["rc"])
            if value["rc"] == 0:
                raise workflow.TaskFailed("Broken", "not yet")
            return {"redrives": value["rc"]}

        x = e.run(m, {})
        assert (x.status, x.error) == ("FAILED", "Broken")
        r = e.redrive(x)
        assert r.wait(5)
        assert r.status == "SUCCEEDED"
        assert r.output == {"redrives": 1}
        assert calls == [0, 1]
        history = r.history()
        redriven = [ev for ev in history if ev["type"] == "ExecutionRedriven"]
        assert redriven[0]["executionRedrivenEventDetails"] == {
            "redriveCount": 1}
        with pytest.raises(workflow.WorkflowError) as info:
            e.redrive(x.arn)
        assert info.value.name == "WF_ESTATE"
        assert "Execution is SUCCEEDED and cannot be redriven" in str(
            info.value)


def test_object_store_serves_item_reader_and_result_writer(
        tmp_path: Any) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "rows.csv").write_text("k,v\na,1\nb,2\n")
    m = workflow.Machine.from_json(json.dumps({
        "StartAt": "M", "States": {"M": {
            "Type": "Map", "End": True,
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV"},
                "Parameters": {"Bucket": "b", "Key": "rows.csv"}},
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "b", "Prefix": "out"}},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED",
                                    "ExecutionType": "EXPRESS"},
                "StartAt": "P", "States": {"P": {"Type": "Pass",
                                                 "End": True}}}}}}),
        name="Rows")
    with workflow.Engine() as e:
        with pytest.raises(workflow.WorkflowError) as info:
            e.run(m, {})
        assert info.value.name == "WF_EUNSUPPORTED"
        e.set_object_store(tmp_path)
        x = e.run(m, {})
        assert x.status == "SUCCEEDED", x.cause
        key = x.output["ResultWriterDetails"]["Key"]
        results = json.loads(
            (tmp_path / "b" / key).with_name("SUCCEEDED_0.json").read_text())
        assert [json.loads(r["Output"]) for r in results] == [
            {"k": "a", "v": "1"}, {"k": "b", "v": "2"}]
        with pytest.raises(workflow.WorkflowError) as info:
            e.set_object_store(tmp_path / "missing")
        assert info.value.name == "WF_EINVAL"
        e.set_object_store(None)


def test_mock_config_and_test_case() -> None:
    m = workflow.Machine.from_json(RETRY_WAIT.definition, name="M")
    with workflow.Engine(virtual_time=True) as e:
        e.set_mock_config({
            "StateMachines": {"M": {"TestCases": {"T": {"Greet": "R"}}}},
            "MockedResponses": {"R": {"0-3": {"Throw": {
                "Error": "Boom", "Cause": "mocked"}}}}})
        x = e.run(m, {}, test_case="T")
        assert (x.status, x.error, x.cause) == ("FAILED", "Boom", "mocked")
        assert x.output is None
        with pytest.raises(workflow.WorkflowError) as info:
            e.set_mock_config({"StateMachines": 3})
        assert info.value.name == "WF_EINVALID"


def test_listeners_and_log_sink() -> None:
    events: List[str] = []
    lines: List[Dict[str, Any]] = []

    def failing_listener(ev: Dict[str, Any]) -> None:
        raise RuntimeError("listener bug: logged, not raised")

    with workflow.Engine(log=lines.append, log_level="DEBUG") as e:
        e.add_listener(lambda ev: events.append(ev["type"]))
        e.add_listener(failing_listener)

        def greet(value: Any, ctx: workflow.Context) -> Any:
            ctx.log({"note": "from python"}, event="PyLog")
            return 1

        e.register_handler(GREET, greet)
        x = e.run(task_machine(), {})
        assert events == [ev["type"] for ev in x.history()]
        e.remove_listener(failing_listener)
    assert any(line.get("event") == "PyLog" and
               line.get("note") == "from python" for line in lines)


def test_bad_start_raises() -> None:
    with workflow.Engine() as e:
        with pytest.raises(workflow.WorkflowError) as info:
            e.start(task_machine(), None, name="bad name with spaces")
        assert info.value.name == "WF_EINVAL"
        e.close()
        with pytest.raises(workflow.WorkflowError):
            e.start(task_machine(), {})


def test_plugins_load_from_trusted_directories(plugin_dir: Any) -> None:
    m = task_machine("arn:aws:lambda:us-east-1:123456789012:function:Hello")
    with workflow.Engine() as e:
        with pytest.raises(workflow.WorkflowError) as info:
            e.load_plugin(plugin_dir / "hello.so")
        assert info.value.name == "WF_EPERM"
        e.add_plugin_dir(plugin_dir)
        p = e.load_plugin(plugin_dir / "hello.so", {"greeting": "Hi"})
        assert p.name == "hello"
        assert e.run(m, {}).output == {"message": "Hi from T"}
        p.unload()
        assert e.run(m, {}).error == "Lambda.ResourceNotFoundException"


def test_virtual_clock_start_and_advance() -> None:
    clock = workflow.Clock(start_ms=1_000_000)
    assert clock.now() == 1_000_000
    clock.advance(500)
    assert clock.now() == 1_000_500
    with pytest.raises(workflow.WorkflowError):
        clock.advance(-1)
    with workflow.Engine(clock=clock) as e:
        x = e.run(task_machine(), {})
        assert x.start_ms == 1_000_500
        assert e.clock is clock
    json.dumps({"ok": True})


def test_nested_executions_run_the_machine_the_resolver_finds() -> None:
    child = workflow.Machine.from_json(
        {"StartAt": "P", "States": {"P": {
            "Type": "Pass", "Parameters": {"got.$": "$.n"}, "End": True}}},
        name="Child")
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:"
    parent = task_machine("arn:aws:states:::states:startExecution.sync:2",
                          Parameters={"StateMachineArn": arn + "Child",
                                      "Input": {"n.$": "$.n"}})
    missing = task_machine("arn:aws:states:::states:startExecution",
                           Parameters={"StateMachineArn": arn + "None"})
    with workflow.Engine() as engine:
        engine.set_machine_resolver(
            lambda a: child if a == arn + "Child" else None)
        run = engine.run(parent, {"n": 7})
        assert run.status == "SUCCEEDED", run.cause
        assert run.output["Output"] == {"got": 7}
        assert run.output["Status"] == "SUCCEEDED"
        run = engine.run(missing, {})
        assert run.status == "FAILED"
        assert run.error == "StepFunctions.StateMachineDoesNotExistException"
