"""Engines, executions, handlers, listeners, plugins and task tokens."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import inspect
import json
import logging
import os
import threading
import weakref
from typing import (Any, Awaitable, Callable, Dict, Generator, List,
                    NamedTuple, Optional, Set, TypeVar, Union)

from . import _native
from ._native import b, s
from .clock import Clock
from .errors import TaskFailed, WorkflowError, check
from .machine import Machine
from .store import STATUSES, Store

__all__ = ["Engine", "Execution", "Context", "Plugin", "PENDING",
           "Handler", "Listener"]

log = logging.getLogger("workflow")

Handler = Callable[..., Any]
"""fn(input) or fn(input, context); may be ``async def``."""
Listener = Callable[["dict[str, Any]"], None]
F = TypeVar("F", bound=Handler)

_EUNSUPPORTED = -16
_ESTATE = -10
_ENOTFOUND = -8
_EINTERNAL = -17


class _Pending:
    """The type of PENDING."""

    def __repr__(self) -> str:
        return "workflow.PENDING"


PENDING = _Pending()
"""Return it from a handler to leave the task pending: something else
completes it later by its token (Engine.send_task_success() and friends),
as for a ``.waitForTaskToken`` resource."""

# Which engines this thread is inside a callback of (a handler, a listener,
# a log sink): their threads must not wait on them or free them. Each
# thread sees only its own list.
_tls = threading.local()


def _inside() -> List[int]:
    stack: Optional[List[int]] = getattr(_tls, "engines", None)
    if stack is None:
        stack = []
        _tls.engines = stack
    return stack


class _Loop:
    """The asyncio loop running async handlers of engines given none: one
    daemon thread for the process, started on first use."""

    lock = threading.Lock()
    loop: Optional[asyncio.AbstractEventLoop] = None

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls.lock:
            if cls.loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, daemon=True,
                                 name="workflow-asyncio").start()
                cls.loop = loop
            return cls.loop


class Context:
    """What a handler knows about its task. Valid while the task is: during
    the call, or until an async handler's coroutine ends; afterwards its
    properties raise WorkflowError (WF_ESTATE), except the ones already
    read."""

    def __init__(self, task: int) -> None:
        self._task: Optional[int] = task
        self._cache: Dict[str, Any] = {}

    def _get(self, key: str, fn: str) -> Any:
        if key not in self._cache:
            if self._task is None:
                raise WorkflowError(_ESTATE, "the task has completed; read "
                                    "the context while the handler runs")
            raw = getattr(_native.lib(), fn)(self._task)
            self._cache[key] = s(raw) if isinstance(raw, bytes) else raw
        return self._cache[key]

    @property
    def resource(self) -> str:
        """The Task state's Resource."""
        return str(self._get("resource", "wf_task_resource"))

    @property
    def state_name(self) -> str:
        """The Task state's name."""
        return str(self._get("state", "wf_task_state_name"))

    @property
    def execution_name(self) -> str:
        return str(self._get("xname", "wf_task_execution_name"))

    @property
    def execution_arn(self) -> str:
        return str(self._get("xarn", "wf_task_execution_arn"))

    @property
    def correlation_id(self) -> str:
        return str(self._get("corr", "wf_task_correlation_id"))

    @property
    def token(self) -> str:
        """The task token, for Engine.send_task_success() and friends."""
        return str(self._get("token", "wf_task_token"))

    @property
    def attempt(self) -> int:
        """0 for the first attempt, 1 for the first retry, ..."""
        return int(self._get("attempt", "wf_task_attempt"))

    @property
    def deadline_ms(self) -> int:
        """When the task times out (engine clock, ms since the epoch)."""
        return int(self._get("deadline", "wf_task_deadline"))

    @property
    def redelivered(self) -> bool:
        """True when this call may repeat one made before a crash."""
        return bool(self._get("redelivered", "wf_task_redelivered"))

    @property
    def idempotency_key(self) -> str:
        """The same in every delivery of this attempt of this task."""
        return str(self._get("idem", "wf_task_idempotency_key"))

    def cancelled(self) -> bool:
        """True once the execution was stopped, the task timed out or a
        sibling branch failed: the result will be ignored."""
        if self._task is None:
            return True
        return bool(_native.lib().wf_task_cancelled(self._task))

    def heartbeat(self) -> None:
        """Report progress: resets the HeartbeatSeconds timer."""
        if self._task is None:
            raise WorkflowError(_ESTATE, "the task has completed")
        check(_native.lib().wf_task_heartbeat(self._task))

    def log(self, fields: Union[str, "dict[str, Any]", None] = None,
            level: str = "INFO", event: Optional[str] = None) -> None:
        """Write a structured log line through the engine's sinks, carrying
        the task's correlation id, execution and state."""
        if self._task is None:
            raise WorkflowError(_ESTATE, "the task has completed")
        levels = {"DEBUG": 1, "INFO": 2, "WARN": 3, "ERROR": 4}
        text = fields if fields is None or isinstance(fields, str) \
            else json.dumps(fields)
        _native.lib().wf_task_log(self._task, levels[level], b(event),
                                  b(text))


def _marshal(out: Any) -> Union[str, TaskFailed]:
    try:
        return json.dumps(out, allow_nan=False)
    except (TypeError, ValueError) as ex:
        # What AWS Lambda's Python runtime reports for such a return value.
        return TaskFailed("Runtime.MarshalError",
                          f"Unable to marshal response: {ex}")


def _complete(task: int, out: Any) -> None:
    lib = _native.lib()
    if isinstance(out, TaskFailed):
        lib.wf_task_fail(task, b(out.error), b(out.cause))
        return
    text = _marshal(out)
    if isinstance(text, TaskFailed):
        lib.wf_task_fail(task, b(text.error), b(text.cause))
    else:
        lib.wf_task_succeed(task, b(text))


def _failure(ex: BaseException) -> TaskFailed:
    if isinstance(ex, TaskFailed):
        return ex
    return TaskFailed(type(ex).__name__, str(ex))


class _AsyncTask:
    """An async handler's task: retained until its coroutine ends, or until
    the engine closes (then released uncompleted: a volatile store stops
    the execution, a durable one keeps the task to be redelivered)."""

    def __init__(self, task: int, ctx: Context) -> None:
        self.task = task
        self.ctx = ctx
        self.lock = threading.Lock()
        self.open = True
        self.future: Optional[concurrent.futures.Future[Any]] = None
        self.finished = threading.Event()

    def finish(self, result: Any) -> None:
        with self.lock:
            if not self.open:
                return
            self.open = False
            self.ctx._task = None
            try:
                _complete(self.task, result)
            finally:
                _native.lib().wf_task_release(self.task)
                self.finished.set()

    def abandon(self) -> None:
        with self.lock:
            if not self.open:
                return
            self.open = False
            self.ctx._task = None
            _native.lib().wf_task_release(self.task)
            self.finished.set()
        if self.future is not None:
            self.future.cancel()


async def _awaiting(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _takes_context(fn: Handler) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (
        p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(
        p.kind == p.VAR_POSITIONAL for p in params)


class _Core:
    """What the library uses of an engine, kept apart from the Engine object
    so the finalizer can free it (and keep the callbacks, clock and store
    alive until then) without holding the Engine itself."""

    def __init__(self) -> None:
        self.h: Optional[int] = None
        self.keep: List[Any] = []          # callbacks the library may call
        self.clock: Optional[Clock] = None
        self.store: Optional[Store] = None
        self.lock = threading.Lock()
        self.pending: Set[_AsyncTask] = set()
        self.listeners: List[Listener] = []
        self.listener_cb: Any = None
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.hold_workers = False


def _free_core(core: _Core) -> None:
    if core.h is None:
        return
    if id(core) in _inside():
        # On the engine's own thread (say the last reference went in a
        # handler): wf_engine_free must not run here; another thread does.
        threading.Thread(target=_free_core, args=(core,),
                         name="workflow-engine-free").start()
        return
    with core.lock:
        pending = list(core.pending)
        core.pending.clear()
    for rec in pending:
        rec.abandon()
    h, core.h = core.h, None
    _native.lib().wf_engine_free(h)
    for owner in (core.clock, core.store):
        if owner is not None:
            owner._users -= 1
    core.keep.clear()


def _run_async(core: _Core, task: int, ctx: Context,
               awaitable: Awaitable[Any]) -> None:
    """Run an async handler's awaitable on the engine's loop; the task is
    completed when it ends."""
    lib = _native.lib()
    lib.wf_task_retain(task)
    rec = _AsyncTask(task, ctx)
    with core.lock:
        core.pending.add(rec)

    def done(fut: concurrent.futures.Future[Any]) -> None:
        with core.lock:
            core.pending.discard(rec)
        if fut.cancelled():
            rec.abandon()
            return
        ex = fut.exception()
        rec.finish(_failure(ex) if ex is not None else fut.result())

    coro = awaitable if asyncio.iscoroutine(awaitable) \
        else _awaiting(awaitable)
    try:
        fut = asyncio.run_coroutine_threadsafe(coro, core.loop or
                                               _Loop.get())
    except BaseException as ex:  # a closed loop: fail the task now
        coro.close()
        with core.lock:
            core.pending.discard(rec)
        rec.finish(_failure(ex))
        return
    rec.future = fut
    fut.add_done_callback(done)
    if core.hold_workers:
        # On a virtual clock time jumps as soon as no handler runs: the
        # worker stays in the call (the GIL released) until the
        # coroutine ends, as a blocking handler would.
        # Wait for the completion itself, not the future: its waiters
        # wake before its callbacks run.
        rec.finished.wait()


class Plugin:
    """A handler plugin loaded into an engine (Engine.load_plugin())."""

    def __init__(self, handle: int, core: _Core) -> None:
        self._h: Optional[int] = handle
        self._core = core
        self.name = s(_native.lib().wf_plugin_name(handle)) or ""
        self.path = s(_native.lib().wf_plugin_path(handle)) or ""

    def unload(self) -> None:
        """Unregister its handlers (calls in flight finish) and close it.
        Engines unload their plugins when they close."""
        if self._h is not None and self._core.h is not None:
            _native.lib().wf_plugin_unload(self._h)
        self._h = None

    def __repr__(self) -> str:
        return f"<workflow.Plugin {self.name!r} {self.path!r}>"


def _free_execution(handle: int) -> None:
    _native.lib().wf_execution_free(handle)


def _redrive(core: _Core, arn: str) -> "Execution":
    if core.h is None:
        raise WorkflowError(_ESTATE, "the engine is closed")
    h = ctypes.c_void_p()
    err = _native.Error()
    check(_native.lib().wf_engine_redrive(ctypes.byref(h), core.h, b(arn),
                                          ctypes.byref(err)), err)
    assert h.value is not None
    return Execution(h.value, core)


class Execution:
    """A started execution. Readable after its engine closed; ``await
    execution`` in asyncio code waits for it without blocking the loop."""

    def __init__(self, handle: int, core: _Core) -> None:
        self._h = handle
        self._core = core  # its engine's, for redrive()
        self._core_id = id(core)
        self._finalizer = weakref.finalize(self, _free_execution, handle)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait until it ends (timeout in seconds; None: no limit). True
        once it has ended, False when the timeout passed first. The GIL is
        released meanwhile; the thread helps run the engine's ready work.
        Not from the engine's own handlers or listeners (WF_ESTATE)."""
        if self._core_id in _inside():
            raise WorkflowError(_ESTATE, "cannot wait for an execution from "
                                "a handler or listener of its own engine")
        ms = -1 if timeout is None else max(0, int(timeout * 1000))
        return bool(_native.lib().wf_execution_wait(self._h, ms) == 0)

    def __await__(self) -> Generator[Any, None, "Execution"]:
        return self._wait_async().__await__()

    async def _wait_async(self) -> "Execution":
        loop = asyncio.get_running_loop()
        while not await loop.run_in_executor(None, self.wait, 0.1):
            pass
        return self

    @property
    def status(self) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED."""
        return STATUSES[_native.lib().wf_execution_status(self._h)]

    @property
    def done(self) -> bool:
        return self.status != "RUNNING"

    @property
    def output(self) -> Any:
        """The output once SUCCEEDED, else None."""
        text = _native.lib().wf_execution_output(self._h)
        return None if text is None else json.loads(text.decode("utf-8"))

    @property
    def error(self) -> Optional[str]:
        return s(_native.lib().wf_execution_error(self._h))

    @property
    def cause(self) -> Optional[str]:
        return s(_native.lib().wf_execution_cause(self._h))

    @property
    def name(self) -> str:
        return s(_native.lib().wf_execution_name(self._h)) or ""

    @property
    def arn(self) -> str:
        return s(_native.lib().wf_execution_arn(self._h)) or ""

    @property
    def start_ms(self) -> int:
        """Start time (engine clock, ms since the epoch)."""
        return int(_native.lib().wf_execution_start_time(self._h))

    @property
    def stop_ms(self) -> int:
        """Stop time; 0 while running."""
        return int(_native.lib().wf_execution_stop_time(self._h))

    def stop(self, error: Optional[str] = None,
             cause: Optional[str] = None) -> bool:
        """Abort it as StopExecution does. False when it had ended."""
        rc = _native.lib().wf_execution_stop(self._h, b(error), b(cause))
        if rc == _ESTATE:
            return False
        check(rc)
        return True

    def redrive(self) -> "Execution":
        """Redrive it as RedriveExecution does (Engine.redrive)."""
        return _redrive(self._core, self.arn)

    def history(self, reverse: bool = False) -> List["dict[str, Any]"]:
        """The events as GetExecutionHistory gives them (empty when the
        engine keeps no history)."""
        text = _native.take_string(
            _native.lib().wf_execution_history(self._h, 1 if reverse else 0))
        if text is None:
            return []
        events: List[dict[str, Any]] = json.loads(text)["events"]
        return events

    @property
    def history_count(self) -> int:
        return int(_native.lib().wf_execution_history_count(self._h))

    def close(self) -> None:
        """Release the handle (the execution keeps running)."""
        self._finalizer()

    def __repr__(self) -> str:
        return f"<workflow.Execution {self.name!r} {self.status}>"


_NO_MOCK: Any = object()
_TEST_STATE_OPTIONS_VERSION = 1
_LEVELS = ["INFO", "DEBUG", "TRACE"]
_MOCK_MODES = ["STRICT", "PRESENT", "NONE"]


class TestStateResult(NamedTuple):
    """What Engine.test_state() answers, as AWS's TestState does: status
    SUCCEEDED, FAILED, RETRIABLE or CAUGHT_ERROR; output (the JSON value,
    None when the state failed uncaught); error and cause; next_state;
    inspection_data (DEBUG and TRACE: AWS's members, each JSON text)."""
    status: str
    output: Any
    error: Optional[str]
    cause: Optional[str]
    next_state: Optional[str]
    inspection_data: Optional["dict[str, Any]"]


class Engine:
    """Runs executions with AWS Step Functions Standard semantics on its own
    threads. Use it as a context manager, or close() it: closing waits for
    handler calls in flight, stops running executions (with a durable store
    it leaves them to be resumed) and keeps Execution objects readable.

    Handlers written in Python run on the engine's worker pool (or, with
    inline=True, on a scheduler thread: for handlers that never block);
    ``async def`` handlers run on ``loop`` (default: a shared background
    loop thread), so a blocked handler never holds the GIL while waiting.
    On a virtual clock an async handler's worker waits (GIL released) for
    its coroutine, so that time does not jump past a task still working.
    """

    def __init__(self, *, virtual_time: bool = False,
                 clock: Optional[Clock] = None,
                 store: Optional[Store] = None, history: bool = True,
                 worker_threads: int = 0, scheduler_threads: int = 0,
                 payload_limit: int = 0,
                 log: Optional[Callable[["dict[str, Any]"], None]] = None,
                 log_path: Optional[str] = None,
                 log_level: Optional[str] = None,
                 region: Optional[str] = None, account: Optional[str] = None,
                 seed: int = 0, max_running: int = 0,
                 expression_cpu_ms: int = 0,
                 loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        """virtual_time: make a virtual Clock (or pass clock=). store: a
        Store (default: the engine's own, in memory). history: keep every
        event (False: only results). log: called with each structured log
        record (a dict), from any engine thread. log_path: append JSON
        lines to a file ("-": stderr). log_level: DEBUG, INFO, WARN, ERROR.
        seed: for UUIDs and jitter (0: from the system). max_running:
        executions running at once (0: no bound). loop: where async
        handlers run."""
        lib = _native.lib()
        core = _Core()
        self._core = core
        if virtual_time and clock is None:
            clock = Clock()
        opts = _native.EngineOptions()
        check(lib.wf_engine_options_init(ctypes.byref(opts),
                                         _native.ENGINE_OPTIONS_VERSION))
        opts.worker_threads = worker_threads
        opts.scheduler_threads = scheduler_threads
        opts.payload_limit = payload_limit
        opts.history = 0 if history else 1
        if clock is not None:
            opts.clock = clock._handle()
        if store is not None:
            opts.store = store._handle()
        if log is not None:
            opts.log = self._log_sink(log)
        opts.log_path = b(log_path)
        if log_level is not None:
            opts.log_level = {"DEBUG": 1, "INFO": 2, "WARN": 3,
                              "ERROR": 4}[log_level]
        opts.region = b(region)
        opts.account = b(account)
        opts.seed = seed
        opts.max_running = max_running
        opts.expression_cpu_ms = expression_cpu_ms
        h = ctypes.c_void_p()
        err = _native.Error()
        check(lib.wf_engine_new(ctypes.byref(h), ctypes.byref(opts),
                                ctypes.byref(err)), err)
        assert h.value is not None
        core.h = h.value
        for owner in (clock, store):
            if owner is not None:
                owner._users += 1
        core.clock, core.store, core.loop = clock, store, loop
        core.hold_workers = clock is not None
        self._finalizer = weakref.finalize(self, _free_core, core)

    def _log_sink(self, fn: Callable[["dict[str, Any]"], None]) -> Any:
        core = self._core

        def sink(line: Optional[bytes], payload: Any) -> None:
            stack = _inside()
            stack.append(id(core))
            try:
                fn(json.loads((line or b"{}").decode("utf-8")))
            except BaseException:  # never into the library
                log.exception("workflow: the log callback raised")
            finally:
                stack.pop()

        cb = _native.LOG_CB(sink)
        core.keep.append(cb)
        return cb

    def _handle(self) -> int:
        if self._core.h is None:
            raise WorkflowError(_ESTATE, "the engine is closed")
        return self._core.h

    @property
    def clock(self) -> Optional[Clock]:
        """The engine's clock when it is virtual, else None."""
        return self._core.clock

    @property
    def store(self) -> Optional[Store]:
        """The store given at creation, else None."""
        return self._core.store

    # ---- handlers -------------------------------------------------------

    def _c_handler(self, fn: Handler) -> Any:
        core = self._core
        with_ctx = _takes_context(fn)

        def call(task: Optional[int], payload: Any) -> None:
            assert task is not None
            lib = _native.lib()
            stack = _inside()
            stack.append(id(core))
            ctx = Context(task)
            handed_off = False
            try:
                raw = lib.wf_task_input(task)
                if raw is None:
                    lib.wf_task_fail(task, b"States.Runtime",
                                     b"Out of memory reading the task input")
                    return
                value = json.loads(raw.decode("utf-8"))
                try:
                    out = fn(value, ctx) if with_ctx else fn(value)
                except BaseException as ex:
                    out = _failure(ex)
                if inspect.isawaitable(out):
                    handed_off = True  # the coroutine's record owns ctx now
                    _run_async(core, task, ctx, out)
                    return
                if out is PENDING:
                    return
                _complete(task, out)
            except BaseException as ex:  # never into the library
                if not handed_off:
                    lib.wf_task_fail(task, b(type(ex).__name__), b(str(ex)))
            finally:
                if not handed_off:
                    ctx._task = None
                stack.pop()

        return _native.HANDLER_CB(call)

    def register_handler(self, resource: str, fn: Handler, *,
                         prefix: bool = False, inline: bool = False) -> None:
        """Serve Task states whose Resource is ``resource`` (with
        prefix=True: every Resource starting with it) with fn(input) or
        fn(input, context). Its return value is the task's result; raising
        TaskFailed(error, cause) fails the task, any other exception fails
        it with the exception's class name and message; a value that is not
        JSON fails it with Runtime.MarshalError; returning PENDING leaves it
        to be completed by token. An ``async def`` fn runs on the engine's
        asyncio loop. inline=True calls a sync fn on a scheduler thread
        (no hand-off; it must not block)."""
        if inline and inspect.iscoroutinefunction(fn):
            raise ValueError("an async handler cannot be inline: it would "
                             "hold a scheduler thread while it awaits")
        cb = self._c_handler(fn)
        flags = (_native.HANDLER_PREFIX if prefix else 0) | \
            (_native.HANDLER_INLINE if inline else 0)
        err = _native.Error()
        check(_native.lib().wf_engine_register_handler(
            self._handle(), b(resource), cb, None, flags, ctypes.byref(err)),
            err)
        self._core.keep.append(cb)

    def set_machine_resolver(
            self, resolve: Callable[[str], Optional[Machine]]) -> None:
        """Serve nested executions: Task states on
        arn:aws:states:::states:startExecution (and .sync, .sync:2,
        .waitForTaskToken) start a child on this engine. resolve(arn) gets
        the task's StateMachineArn and returns the Machine to run (its name
        is the child's machine name), or None: the task then fails with
        StepFunctions.StateMachineDoesNotExistException. Called on a worker
        thread. Set it before starting or resuming executions."""
        lib = _native.lib()

        def call(target: Any, arn: Optional[bytes], payload: Any,
                 err: Any) -> int:
            try:
                m = resolve((arn or b"").decode("utf-8"))
                if m is None:
                    return _ENOTFOUND
                target.contents.machine = lib.wf_machine_ref(m._handle())
                return 0
            except BaseException as ex:  # never into the library
                err.contents.message = ("%s: %s" % (
                    type(ex).__name__, ex)).encode("utf-8")[:500]
                return _EINTERNAL

        cb = _native.RESOLVE_CB(call)
        err = _native.Error()
        check(lib.wf_engine_set_machine_resolver(
            self._handle(), cb, None, ctypes.byref(err)), err)
        self._core.keep.append(cb)

    def handler(self, resource: str, *, prefix: bool = False,
                inline: bool = False) -> Callable[[F], F]:
        """Decorator form of register_handler():

            @engine.handler("arn:aws:lambda:us-east-1:123456789012:function:F")
            def f(event): return {"ok": True}
        """
        def register(fn: F) -> F:
            self.register_handler(resource, fn, prefix=prefix, inline=inline)
            return fn
        return register

    def unregister_handler(self, resource: str, *,
                           prefix: bool = False) -> None:
        """Remove a registration; calls in flight finish."""
        check(_native.lib().wf_engine_unregister_handler(
            self._handle(), b(resource),
            _native.HANDLER_PREFIX if prefix else 0))

    # ---- configuration --------------------------------------------------

    def set_mock_config(self, config: Union[str, "dict[str, Any]", None]
                        ) -> None:
        """Install a Step Functions Local MockConfigFile (JSON text or a
        dict; None removes it). Executions started with test_case= answer
        that case's mocked Task states from it."""
        text = config if config is None or isinstance(config, str) \
            else json.dumps(config)
        err = _native.Error()
        check(_native.lib().wf_engine_set_mock_config(
            self._handle(), b(text), ctypes.byref(err)), err)

    def set_object_store(self,
                         root: Union[str, "os.PathLike[str]", None]) -> None:
        """Serve Distributed Map ItemReader and ResultWriter from a local
        object store: each bucket a directory under root, s3://bucket/key
        the file root/bucket/key (None: no object store, such a machine
        does not start)."""
        opts = _native.ObjectStoreOptions()
        check(_native.lib().wf_object_store_options_init(
            ctypes.byref(opts), 1))
        keep = None if root is None else os.fsencode(root)
        opts.root = keep
        err = _native.Error()
        check(_native.lib().wf_engine_set_object_store(
            self._handle(), None if root is None else ctypes.byref(opts),
            ctypes.byref(err)), err)

    def load_mock_config(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """set_mock_config() from a MockConfigFile."""
        with open(path, encoding="utf-8") as f:
            self.set_mock_config(f.read())

    def add_listener(self, fn: Listener) -> Listener:
        """Call fn(event) for every history event of every execution (the
        event as GetExecutionHistory gives it, plus "executionArn"). It
        runs on a scheduler thread while the execution is stepped: keep it
        short. Exceptions are logged, not raised. Returns fn (usable as a
        decorator)."""
        core = self._core
        with core.lock:
            core.listeners = core.listeners + [fn]
            first = core.listener_cb is None
            if first:
                def dispatch(event: Any, payload: Any) -> None:
                    stack = _inside()
                    stack.append(id(core))
                    try:
                        ev = event.contents
                        value = json.loads(ev.json.decode("utf-8"))
                        value["executionArn"] = s(ev.execution_arn)
                        for listener in core.listeners:
                            try:
                                listener(value)
                            except BaseException:
                                log.exception("workflow: a listener raised")
                    except BaseException:
                        log.exception("workflow: cannot read an event")
                    finally:
                        stack.pop()
                core.listener_cb = _native.EVENT_CB(dispatch)
        if first:
            check(_native.lib().wf_engine_add_listener(
                self._handle(), core.listener_cb, None))
            core.keep.append(core.listener_cb)
        return fn

    def remove_listener(self, fn: Listener) -> None:
        """Stop calling fn (ValueError when it was not added)."""
        core = self._core
        with core.lock:
            listeners = list(core.listeners)
            listeners.remove(fn)
            core.listeners = listeners

    def add_plugin_dir(self, directory: Union[str, "os.PathLike[str]"]
                       ) -> None:
        """Trust a directory (not writable by group or others) to load
        plugins from."""
        err = _native.Error()
        check(_native.lib().wf_engine_add_plugin_dir(
            self._handle(), b(os.fspath(directory)), ctypes.byref(err)), err)

    def load_plugin(self, path: Union[str, "os.PathLike[str]"],
                    config: Union[str, "dict[str, Any]", None] = None
                    ) -> Plugin:
        """Load a handler plugin (.so) from a trusted directory, with its
        configuration (a dict or JSON text), and let it register its
        handlers. Refusals name the file and the reason (WF_EPERM, WF_EABI,
        WF_EEXIST, ...)."""
        text = config if config is None or isinstance(config, str) \
            else json.dumps(config)
        h = ctypes.c_void_p()
        err = _native.Error()
        check(_native.lib().wf_engine_load_plugin(
            ctypes.byref(h), self._handle(), b(os.fspath(path)), b(text),
            ctypes.byref(err)), err)
        assert h.value is not None
        return Plugin(h.value, self._core)

    # ---- executions -----------------------------------------------------

    def _start(self, how: str, machine: Machine, input: Any,
               name: Optional[str], correlation_id: Optional[str],
               test_case: Optional[str], role_arn: Optional[str],
               machine_arn: Optional[str], nowait: bool) -> Execution:
        lib = _native.lib()
        opts = _native.StartOptions()
        check(lib.wf_start_options_init(ctypes.byref(opts),
                                        _native.START_OPTIONS_VERSION))
        opts.name = b(name)
        opts.correlation_id = b(correlation_id)
        opts.test_case = b(test_case)
        opts.role_arn = b(role_arn)
        opts.machine_arn = b(machine_arn)
        opts.flags = 1 if nowait else 0
        h = ctypes.c_void_p()
        err = _native.Error()
        text = None if input is None else json.dumps(input)
        check(getattr(lib, how)(ctypes.byref(h), self._handle(),
                                machine._handle(), b(text),
                                ctypes.byref(opts), ctypes.byref(err)), err)
        assert h.value is not None
        return Execution(h.value, self._core)

    def start(self, machine: Machine, input: Any = None, *,
              name: Optional[str] = None,
              correlation_id: Optional[str] = None,
              test_case: Optional[str] = None,
              role_arn: Optional[str] = None,
              machine_arn: Optional[str] = None,
              nowait: bool = False) -> Execution:
        """Start an execution (input: any JSON value; None means {}).
        test_case: a MockConfigFile test case. nowait: return before a
        durable store has committed the start."""
        return self._start("wf_engine_start", machine, input, name,
                           correlation_id, test_case, role_arn, machine_arn,
                           nowait)

    def run(self, machine: Machine, input: Any = None, *,
            name: Optional[str] = None,
            correlation_id: Optional[str] = None,
            test_case: Optional[str] = None,
            role_arn: Optional[str] = None,
            machine_arn: Optional[str] = None) -> Execution:
        """Start an execution and run it to its end on this thread, as
        StartSyncExecution does (the GIL is released meanwhile)."""
        if id(self._core) in _inside():
            raise WorkflowError(_ESTATE, "cannot run an execution from a "
                                "handler or listener of the same engine")
        return self._start("wf_engine_run", machine, input, name,
                           correlation_id, test_case, role_arn, machine_arn,
                           False)

    def test_state(self, definition: Union[str, "dict[str, Any]"],
                   input: Any = None, *,
                   inspection_level: str = "INFO",
                   reveal_secrets: bool = False,
                   variables: Optional["dict[str, Any]"] = None,
                   state_name: Optional[str] = None,
                   mock: Any = _NO_MOCK,
                   mock_validation: str = "STRICT",
                   context: Optional["dict[str, Any]"] = None,
                   retrier_retry_count: Optional[int] = None,
                   error_caused_by_state: Optional[str] = None,
                   map_iteration_failure_count: Optional[int] = None,
                   map_item_reader_data: Any = None,
                   role_arn: Optional[str] = None) -> "TestStateResult":
        """Run one state in isolation, as AWS's TestState does: the
        definition of one state (or of a machine, with state_name). mock:
        the result (any JSON value) or a TaskFailed(error, cause) instead
        of calling the Task (Map, Parallel) at all. Refusals raise
        WorkflowError (DefinitionError for a definition that does not
        load)."""
        if not isinstance(definition, str):
            definition = json.dumps(definition)
        o = _native.TestStateOptions()
        check(_native.lib().wf_test_state_options_init(
            ctypes.byref(o), _TEST_STATE_OPTIONS_VERSION))
        keep = [b(json.dumps({} if input is None else input))]
        o.input = keep[0]
        o.inspection_level = _LEVELS.index(inspection_level)
        o.reveal_secrets = int(reveal_secrets)
        o.mock_validation = _MOCK_MODES.index(mock_validation)

        def text(value: Any, dump: bool = True) -> Optional[bytes]:
            if value is None:
                return None
            keep.append(b(json.dumps(value) if dump else str(value)))
            return keep[-1]
        o.variables = text(variables)
        o.state_name = text(state_name, False)
        o.context = text(context)
        o.error_caused_by_state = text(error_caused_by_state, False)
        o.map_item_reader_data = text(map_item_reader_data)
        o.role_arn = text(role_arn, False)
        if isinstance(mock, TaskFailed):
            o.mock_error = text(mock.error or "", False)
            o.mock_cause = text(mock.cause, False)
        elif mock is not _NO_MOCK:
            o.mock_result = text(mock)
        if retrier_retry_count is not None:
            o.retrier_retry_count = retrier_retry_count
        if map_iteration_failure_count is not None:
            o.map_iteration_failure_count = map_iteration_failure_count
        lib = _native.lib()
        h = ctypes.c_void_p()
        err = _native.Error()
        check(lib.wf_engine_test_state(ctypes.byref(h), self._handle(),
                                       b(definition), ctypes.byref(o),
                                       ctypes.byref(err)), err)
        try:
            out = s(lib.wf_test_state_output(h))
            inspection = s(lib.wf_test_state_inspection(h))
            return TestStateResult(
                status=str(s(lib.wf_test_status_name(
                    lib.wf_test_state_status(h)))),
                output=None if out is None else json.loads(out),
                error=s(lib.wf_test_state_error(h)),
                cause=s(lib.wf_test_state_cause(h)),
                next_state=s(lib.wf_test_state_next(h)),
                inspection_data=None if inspection is None
                else json.loads(inspection))
        finally:
            lib.wf_test_state_result_free(h)

    def find_execution(self, arn: str) -> Execution:
        """An execution of this engine by ARN (WF_ENOTFOUND)."""
        h = ctypes.c_void_p()
        check(_native.lib().wf_engine_find_execution(
            ctypes.byref(h), self._handle(), b(arn)))
        assert h.value is not None
        return Execution(h.value, self._core)

    def redrive(self, execution: Union[Execution, str]) -> Execution:
        """Redrive an execution (or its ARN) that FAILED, TIMED_OUT or was
        ABORTED, as RedriveExecution does: it runs again from where it
        stopped, a Map or Parallel rerunning only what did not succeed;
        returns it running again. WorkflowError WF_ESTATE (its message is
        AWS's reason: "Execution is SUCCEEDED and cannot be redriven", ...)
        or WF_ENOTFOUND."""
        arn = execution.arn if isinstance(execution, Execution) else execution
        self._handle()
        return _redrive(self._core, arn)

    def resume(self) -> int:
        """Resume the executions a durable store holds as running (left by
        an engine that stopped or crashed); returns how many. Call once,
        after registering handlers and loading plugins."""
        n = ctypes.c_size_t()
        err = _native.Error()
        check(_native.lib().wf_engine_resume(self._handle(), ctypes.byref(n),
                                             ctypes.byref(err)), err)
        return int(n.value)

    # ---- task tokens ----------------------------------------------------

    def send_task_success(self, token: str, output: Any) -> None:
        """Complete a pending task by token (SendTaskSuccess). Unknown or
        finished tasks raise WorkflowError (WF_ENOTFOUND)."""
        err = _native.Error()
        check(_native.lib().wf_engine_send_task_success(
            self._handle(), b(token), b(json.dumps(output)),
            ctypes.byref(err)), err)

    def send_task_failure(self, token: str, error: Optional[str] = None,
                          cause: Optional[str] = None) -> None:
        """Fail a pending task by token (SendTaskFailure)."""
        err = _native.Error()
        check(_native.lib().wf_engine_send_task_failure(
            self._handle(), b(token), b(error), b(cause), ctypes.byref(err)),
            err)

    def send_task_heartbeat(self, token: str) -> None:
        """Report progress of a pending task (SendTaskHeartbeat)."""
        err = _native.Error()
        check(_native.lib().wf_engine_send_task_heartbeat(
            self._handle(), b(token), ctypes.byref(err)), err)

    # ---- lifetime -------------------------------------------------------

    def close(self) -> None:
        """Free the engine (see the class). From one of its own handlers it
        is done by another thread, as the library requires."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return self._core.h is None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
