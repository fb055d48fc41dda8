"""Python bindings for libworkflow, through ctypes.

    import workflow
    m = workflow.Machine.from_json(open("machine.json").read())
    with workflow.Engine(virtual_time=True) as e:
        e.register_handler("arn:aws:lambda:us-east-1:123456789012:function:Hi",
                           lambda input: {"greeting": "hi " + input["name"]})
        x = e.run(m, {"name": "world"})
        print(x.status, x.output)

Invalid definitions raise DefinitionError carrying AWS's diagnostics; other
library failures raise WorkflowError with the library's code. Handlers
written in Python run on the engine's worker pool: they receive the task
input as a Python value and return the output, or raise TaskFailed(error,
cause) to fail the task as a Lambda function raising an error would.
"""

import ctypes
import ctypes.util
import json
import os

__all__ = ["Machine", "Engine", "Execution", "WorkflowError",
           "DefinitionError", "TaskFailed", "load_library"]

_STATUS = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("line", ctypes.c_int),
                ("column", ctypes.c_int), ("path", ctypes.c_char * 256),
                ("message", ctypes.c_char * 512)]


class _LoadOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("type", ctypes.c_int),
                ("name", ctypes.c_char_p),
                ("diagnostics", ctypes.POINTER(ctypes.c_void_p)),
                ("allowed_resources", ctypes.POINTER(ctypes.c_char_p))]


class _EngineOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("worker_threads", ctypes.c_uint),
                ("scheduler_threads", ctypes.c_uint),
                ("clock", ctypes.c_void_p), ("payload_limit", ctypes.c_size_t),
                ("history", ctypes.c_int), ("log", ctypes.c_void_p),
                ("log_payload", ctypes.c_void_p), ("log_path", ctypes.c_char_p),
                ("log_level", ctypes.c_int), ("region", ctypes.c_char_p),
                ("account", ctypes.c_char_p), ("seed", ctypes.c_uint64)]


class _StartOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("name", ctypes.c_char_p),
                ("correlation_id", ctypes.c_char_p),
                ("test_case", ctypes.c_char_p)]


_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_LIB = None


def load_library(path=None):
    """Load libworkflow (WORKFLOW_LIBRARY, then the system's)."""
    global _LIB
    if _LIB is not None:
        return _LIB
    path = path or os.environ.get("WORKFLOW_LIBRARY") or \
        ctypes.util.find_library("workflow") or "libworkflow.so.0"
    lib = ctypes.CDLL(path)
    c = ctypes
    sigs = {
        "wf_error_name": (c.c_char_p, [c.c_int]),
        "wf_version_string": (c.c_char_p, []),
        "wf_load_options_init": (c.c_int, [c.c_void_p, c.c_uint]),
        "wf_machine_load_json": (c.c_int, [c.POINTER(c.c_void_p), c.c_char_p,
                                           c.c_void_p, c.c_void_p]),
        "wf_machine_load_yaml": (c.c_int, [c.POINTER(c.c_void_p), c.c_char_p,
                                           c.c_void_p, c.c_void_p]),
        "wf_machine_free": (None, [c.c_void_p]),
        "wf_machine_definition": (c.c_char_p, [c.c_void_p]),
        "wf_machine_name": (c.c_char_p, [c.c_void_p]),
        "wf_diagnostics_count": (c.c_size_t, [c.c_void_p]),
        "wf_diagnostics_code": (c.c_char_p, [c.c_void_p, c.c_size_t]),
        "wf_diagnostics_message": (c.c_char_p, [c.c_void_p, c.c_size_t]),
        "wf_diagnostics_location": (c.c_char_p, [c.c_void_p, c.c_size_t]),
        "wf_diagnostics_free": (None, [c.c_void_p]),
        "wf_engine_options_init": (c.c_int, [c.c_void_p, c.c_uint]),
        "wf_engine_new": (c.c_int, [c.POINTER(c.c_void_p), c.c_void_p,
                                    c.c_void_p]),
        "wf_engine_free": (None, [c.c_void_p]),
        "wf_engine_register_handler": (c.c_int, [c.c_void_p, c.c_char_p,
                                                 _HANDLER, c.c_void_p,
                                                 c.c_uint, c.c_void_p]),
        "wf_engine_set_mock_config": (c.c_int, [c.c_void_p, c.c_char_p,
                                                c.c_void_p]),
        "wf_start_options_init": (c.c_int, [c.c_void_p, c.c_uint]),
        "wf_engine_start": (c.c_int, [c.POINTER(c.c_void_p), c.c_void_p,
                                      c.c_void_p, c.c_char_p, c.c_void_p,
                                      c.c_void_p]),
        "wf_execution_wait": (c.c_int, [c.c_void_p, c.c_int64]),
        "wf_execution_status": (c.c_int, [c.c_void_p]),
        "wf_execution_output": (c.c_char_p, [c.c_void_p]),
        "wf_execution_error": (c.c_char_p, [c.c_void_p]),
        "wf_execution_cause": (c.c_char_p, [c.c_void_p]),
        "wf_execution_name": (c.c_char_p, [c.c_void_p]),
        "wf_execution_arn": (c.c_char_p, [c.c_void_p]),
        "wf_execution_stop": (c.c_int, [c.c_void_p, c.c_char_p, c.c_char_p]),
        "wf_execution_history": (c.c_void_p, [c.c_void_p, c.c_int]),
        "wf_execution_free": (None, [c.c_void_p]),
        "wf_string_free": (None, [c.c_void_p]),
        "wf_clock_virtual_new": (c.c_int, [c.POINTER(c.c_void_p), c.c_int64]),
        "wf_clock_free": (None, [c.c_void_p]),
        "wf_task_input": (c.c_char_p, [c.c_void_p]),
        "wf_task_succeed": (c.c_int, [c.c_void_p, c.c_char_p]),
        "wf_task_fail": (c.c_int, [c.c_void_p, c.c_char_p, c.c_char_p]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    _LIB = lib
    return lib


def _b(s):
    return None if s is None else s.encode("utf-8")


def _s(b):
    return None if b is None else b.decode("utf-8")


class WorkflowError(Exception):
    """A libworkflow call failed: .code is the WF_E* value."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.name = _s(load_library().wf_error_name(code))


class DefinitionError(WorkflowError):
    """A definition AWS would reject: .diagnostics lists (code, message,
    location) as AWS words them."""

    def __init__(self, code, message, diagnostics):
        super().__init__(code, message)
        self.diagnostics = diagnostics


class TaskFailed(Exception):
    """Raise from a handler to fail the task with an error name and cause."""

    def __init__(self, error, cause=None):
        super().__init__(error if cause is None else f"{error}: {cause}")
        self.error = error
        self.cause = cause


def _check(rc, err):
    if rc != 0:
        raise WorkflowError(rc, _s(err.message))


class Machine:
    """An immutable, compiled state machine."""

    def __init__(self, handle):
        self._h = handle

    @classmethod
    def _load(cls, fn, text, name, express, allowed):
        lib = load_library()
        opts = _LoadOptions()
        lib.wf_load_options_init(ctypes.byref(opts), 1)
        opts.name = _b(name)
        opts.type = 1 if express else 0
        diags = ctypes.c_void_p()
        opts.diagnostics = ctypes.pointer(diags)
        keep = None
        if allowed is not None:
            keep = (ctypes.c_char_p * (len(allowed) + 1))(
                *[_b(a) for a in allowed], None)
            opts.allowed_resources = keep
        h = ctypes.c_void_p()
        err = _Error()
        rc = fn(ctypes.byref(h), _b(text), ctypes.byref(opts),
                ctypes.byref(err))
        if rc != 0:
            found = []
            if diags.value:
                for i in range(lib.wf_diagnostics_count(diags)):
                    found.append((_s(lib.wf_diagnostics_code(diags, i)),
                                  _s(lib.wf_diagnostics_message(diags, i)),
                                  _s(lib.wf_diagnostics_location(diags, i))))
                lib.wf_diagnostics_free(diags)
            raise DefinitionError(rc, _s(err.message), found)
        return cls(h)

    @classmethod
    def from_json(cls, text, name=None, express=False, allowed=None):
        return cls._load(load_library().wf_machine_load_json, text, name,
                         express, allowed)

    @classmethod
    def from_yaml(cls, text, name=None, express=False, allowed=None):
        return cls._load(load_library().wf_machine_load_yaml, text, name,
                         express, allowed)

    @property
    def name(self):
        return _s(load_library().wf_machine_name(self._h))

    @property
    def definition(self):
        return json.loads(_s(load_library().wf_machine_definition(self._h)))

    def close(self):
        if self._h:
            load_library().wf_machine_free(self._h)
            self._h = None

    def __del__(self):
        self.close()


class Execution:
    """A started execution."""

    def __init__(self, handle):
        self._h = handle

    def wait(self, timeout_ms=-1):
        """True once finished, False when timeout_ms passed first."""
        return load_library().wf_execution_wait(self._h, timeout_ms) == 0

    @property
    def status(self):
        return _STATUS[load_library().wf_execution_status(self._h)]

    @property
    def output(self):
        text = load_library().wf_execution_output(self._h)
        return None if text is None else json.loads(_s(text))

    @property
    def error(self):
        return _s(load_library().wf_execution_error(self._h))

    @property
    def cause(self):
        return _s(load_library().wf_execution_cause(self._h))

    @property
    def name(self):
        return _s(load_library().wf_execution_name(self._h))

    @property
    def arn(self):
        return _s(load_library().wf_execution_arn(self._h))

    def stop(self, error=None, cause=None):
        load_library().wf_execution_stop(self._h, _b(error), _b(cause))

    def history(self, reverse=False):
        lib = load_library()
        p = lib.wf_execution_history(self._h, 1 if reverse else 0)
        if not p:
            return None
        try:
            return json.loads(ctypes.string_at(p).decode("utf-8"))["events"]
        finally:
            lib.wf_string_free(p)

    def close(self):
        if self._h:
            load_library().wf_execution_free(self._h)
            self._h = None

    def __del__(self):
        self.close()


class Engine:
    """An engine with its threads; usable as a context manager."""

    def __init__(self, virtual_time=False, history=True, worker_threads=0,
                 log_path=None, seed=0):
        lib = load_library()
        self._clock = ctypes.c_void_p()
        opts = _EngineOptions()
        lib.wf_engine_options_init(ctypes.byref(opts), 1)
        if virtual_time:
            _check_code(lib.wf_clock_virtual_new(ctypes.byref(self._clock), 0))
            opts.clock = self._clock
        opts.history = 0 if history else 1
        opts.worker_threads = worker_threads
        opts.log_path = _b(log_path)
        opts.seed = seed
        self._h = ctypes.c_void_p()
        self._handlers = []  # keep the callbacks alive
        err = _Error()
        _check(lib.wf_engine_new(ctypes.byref(self._h), ctypes.byref(opts),
                                 ctypes.byref(err)), err)

    def register_handler(self, resource, fn):
        """fn(input) -> output; raise TaskFailed to fail the task."""
        lib = load_library()

        def call(task, payload):
            try:
                value = json.loads(_s(lib.wf_task_input(task)))
                out = fn(value)
                lib.wf_task_succeed(task, _b(json.dumps(out)))
            except TaskFailed as ex:
                lib.wf_task_fail(task, _b(ex.error), _b(ex.cause))
            except Exception as ex:  # a handler bug is a task failure
                lib.wf_task_fail(task, _b(type(ex).__name__), _b(str(ex)))

        cb = _HANDLER(call)
        self._handlers.append(cb)
        err = _Error()
        _check(lib.wf_engine_register_handler(self._h, _b(resource), cb, None,
                                              0, ctypes.byref(err)), err)

    def set_mock_config(self, config):
        err = _Error()
        text = config if isinstance(config, str) else json.dumps(config)
        _check(load_library().wf_engine_set_mock_config(
            self._h, _b(text), ctypes.byref(err)), err)

    def start(self, machine, input=None, name=None, correlation_id=None,
              test_case=None):
        lib = load_library()
        opts = _StartOptions()
        lib.wf_start_options_init(ctypes.byref(opts), 1)
        opts.name = _b(name)
        opts.correlation_id = _b(correlation_id)
        opts.test_case = _b(test_case)
        h = ctypes.c_void_p()
        err = _Error()
        text = None if input is None else json.dumps(input)
        _check(lib.wf_engine_start(ctypes.byref(h), self._h, machine._h,
                                   _b(text), ctypes.byref(opts),
                                   ctypes.byref(err)), err)
        return Execution(h)

    def run(self, machine, input=None, **kw):
        x = self.start(machine, input, **kw)
        x.wait()
        return x

    def close(self):
        lib = load_library()
        if self._h:
            lib.wf_engine_free(self._h)
            self._h = None
        if self._clock:
            lib.wf_clock_free(self._clock)
            self._clock = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


def _check_code(rc):
    if rc != 0:
        raise WorkflowError(rc, _s(load_library().wf_error_name(rc)))
