"""Exceptions raised by the workflow package."""

from __future__ import annotations

from typing import List, Optional, Tuple

from . import _native
from ._native import LibraryNotFoundError

__all__ = ["WorkflowError", "DefinitionError", "TaskFailed",
           "LibraryNotFoundError"]


class WorkflowError(Exception):
    """A libworkflow call failed.

    ``code`` is the library's negative WF_E* value, ``name`` its symbol
    ("WF_EINVAL"), ``path`` the location the library named (a definition
    path, or "" when none)."""

    def __init__(self, code: int, message: str, path: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.name = _native.error_name(code)
        self.path = path

    def __str__(self) -> str:
        return f"{self.name}: {self.args[0]}"


class DefinitionError(WorkflowError):
    """A definition AWS Step Functions would reject.

    ``diagnostics`` lists every problem as (code, message, location), worded
    as AWS words them."""

    def __init__(self, code: int, message: str, path: str,
                 diagnostics: List[Tuple[str, str, Optional[str]]]) -> None:
        super().__init__(code, message, path)
        self.diagnostics = diagnostics


class TaskFailed(Exception):
    """Raise from a handler to fail the task with this error name and cause,
    as a Lambda function raising an error does (Retry and Catch see
    ``error``). Any other exception fails the task with its class name as
    the error and its message as the cause."""

    def __init__(self, error: str, cause: Optional[str] = None) -> None:
        super().__init__(error if cause is None else f"{error}: {cause}")
        self.error = error
        self.cause = cause


def check(rc: int, err: Optional[_native.Error] = None) -> None:
    """Raise WorkflowError for a negative return code."""
    if rc == 0:
        return
    if err is not None and err.message:
        raise WorkflowError(rc, err.message.decode("utf-8", "replace"),
                            err.path.decode("utf-8", "replace"))
    raise WorkflowError(rc, _native.lib().wf_error_str(rc).decode())
