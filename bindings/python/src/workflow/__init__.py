"""libworkflow from Python: AWS Step Functions state machines (ASL, JSONPath
and JSONata) run in-process, with handlers written in Python.

    import workflow

    machine = workflow.Machine.from_file("machine.asl.json")
    with workflow.Engine(virtual_time=True) as engine:
        @engine.handler("arn:aws:lambda:us-east-1:123456789012:function:Hi")
        def hi(event):
            return {"greeting": "hi " + event["name"]}

        run = engine.run(machine, {"name": "world"})
        print(run.status, run.output)

The library (libworkflow.so.0) is found through the WORKFLOW_LIBRARY
environment variable, then the prefix this package is installed in, then
the system's library path; it is loaded on first use. ``__version__`` is the
loaded library's version. The pytest plugin lives in workflow.pytest_plugin
and the test helpers in workflow.testing.
"""

from __future__ import annotations

from typing import Any

from ._native import LibraryNotFoundError
from .activity import Activities, Activity, ActivityTask
from ._version import __version__ as package_version
from .clock import Clock
from .engine import (PENDING, Context, Engine, Execution, Handler, Listener,
                     Plugin, TestStateResult)
from .errors import DefinitionError, TaskFailed, WorkflowError
from .machine import Machine
from .store import Store, StoredExecution

__all__ = ["Machine", "Engine", "Execution", "Context", "Plugin", "Clock",
           "Store", "StoredExecution", "PENDING", "Handler", "Listener",
           "WorkflowError", "DefinitionError", "TaskFailed",
           "TestStateResult", "LibraryNotFoundError", "library_version",
           "library_path",
           "package_version", "Activities", "Activity", "ActivityTask"]


def library_version() -> str:
    """The loaded libworkflow's version ("MAJOR.MINOR.PATCH")."""
    from . import _native
    return str(_native.lib().wf_version_string().decode())


def library_path() -> str:
    """The file libworkflow was loaded from."""
    from . import _native
    return str(_native.lib()._name)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return library_version()
    raise AttributeError(f"module 'workflow' has no attribute {name!r}")
