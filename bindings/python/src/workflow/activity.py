"""Activities: Task states served by workers that poll (workflow/activity.h).

An activity is a named record of an engine (kept in its store), whose ARN
a Task state names as its Resource. A worker takes the queued tasks with
Activities.get_task() and answers them by token with
Engine.send_task_success(), send_task_failure() or send_task_heartbeat().
"""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from . import _native
from ._native import b, s
from .errors import check

if TYPE_CHECKING:
    from .engine import Engine

Tags = List[Dict[str, str]]


@dataclass(frozen=True)
class Activity:
    """An activity as a call found it."""
    arn: str
    name: str
    creation_date_ms: int
    tags: Tags


@dataclass(frozen=True)
class ActivityTask:
    """A task a worker took: answer it by its token."""
    token: str
    input: Any


def _read(handle: Optional[int]) -> Activity:
    lib = _native.lib()
    return Activity(str(s(lib.wf_activity_arn(handle))),
                    str(s(lib.wf_activity_name(handle))),
                    int(lib.wf_activity_creation_date(handle)),
                    json.loads(str(s(lib.wf_activity_tags(handle)))))


def _take(handle: ctypes.c_void_p) -> Activity:
    try:
        return _read(handle.value)
    finally:
        _native.lib().wf_activity_free(handle)


class Activities:
    """The activities of an engine. Any thread may call these; get_task()
    waits without holding the GIL."""

    def __init__(self, engine: "Engine") -> None:
        self._engine = engine

    def create(self, name: str, tags: Optional[Tags] = None) -> Activity:
        """Create an activity, or find the one of that name (AWS's
        CreateActivity is idempotent by name; a repeat's tags are
        ignored). WorkflowError WF_EINVAL for a name AWS refuses."""
        h = ctypes.c_void_p()
        err = _native.Error()
        check(_native.lib().wf_engine_activity_create(
            ctypes.byref(h), self._engine._handle(), b(name),
            b(json.dumps(tags)) if tags is not None else None,
            ctypes.byref(err)), err)
        return _take(h)

    def describe(self, arn: str) -> Activity:
        """The activity of this ARN; WorkflowError WF_ENOTFOUND."""
        h = ctypes.c_void_p()
        err = _native.Error()
        check(_native.lib().wf_engine_activity_describe(
            ctypes.byref(h), self._engine._handle(), b(arn),
            ctypes.byref(err)), err)
        return _take(h)

    def list(self) -> List[Activity]:
        """Every activity, in creation order."""
        found: List[Activity] = []

        def each(handle: Optional[int], payload: Optional[int]) -> int:
            found.append(_read(handle))
            return 0

        cb = _native.ACTIVITY_CB(each)
        err = _native.Error()
        check(_native.lib().wf_engine_activity_list(
            self._engine._handle(), cb, None, ctypes.byref(err)), err)
        return found

    def delete(self, arn: str) -> None:
        """Delete an activity (none of that ARN: nothing happens, as on
        AWS)."""
        err = _native.Error()
        check(_native.lib().wf_engine_activity_delete(
            self._engine._handle(), b(arn), ctypes.byref(err)), err)

    def set_tags(self, arn: str, tags: Tags) -> None:
        """Replace an activity's tags."""
        err = _native.Error()
        check(_native.lib().wf_engine_activity_set_tags(
            self._engine._handle(), b(arn), b(json.dumps(tags)),
            ctypes.byref(err)), err)

    def get_task(self, arn: str, worker_name: Optional[str] = None,
                 timeout: float = 60.0) -> Optional[ActivityTask]:
        """Take the next task of the activity, waiting up to `timeout`
        seconds (at most 60, as GetActivityTask) for one; None when none
        came. WorkflowError WF_ENOTFOUND when there is no such activity."""
        opts = _native.ActivityPollOptions()
        lib = _native.lib()
        check(lib.wf_activity_poll_options_init(
            ctypes.byref(opts), _native.ACTIVITY_POLL_OPTIONS_VERSION))
        worker = b(worker_name)
        opts.worker_name = worker
        opts.timeout_ms = max(1, int(timeout * 1000)) if timeout > 0 else -1
        t = ctypes.c_void_p()
        err = _native.Error()
        check(lib.wf_engine_activity_get_task(
            ctypes.byref(t), self._engine._handle(), b(arn),
            ctypes.byref(opts), ctypes.byref(err)), err)
        if not t.value:
            return None
        try:
            return ActivityTask(str(s(lib.wf_task_token(t))),
                                json.loads(str(s(lib.wf_task_input(t)))))
        finally:
            lib.wf_task_release(t)
