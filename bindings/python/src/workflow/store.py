"""Stores: where an engine keeps executions, their history and their
resumable state (in memory, or durable in SQLite or PostgreSQL)."""

from __future__ import annotations

import ctypes
import json
import os
import weakref
from dataclasses import dataclass
from typing import Any, List, Optional, Union

from . import _native
from ._native import b, s
from .errors import WorkflowError, check

__all__ = ["Store", "StoredExecution", "STATUSES"]

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class StoredExecution:
    """An execution as a store keeps it."""
    arn: str
    name: str
    machine_name: str
    machine_arn: Optional[str]
    status: str
    start_ms: int
    stop_ms: int
    input: Any
    output: Any
    error: Optional[str]
    cause: Optional[str]
    correlation_id: Optional[str]
    event_count: int
    seq: int


def _loads(text: Optional[bytes]) -> Any:
    return None if text is None else json.loads(text.decode("utf-8"))


def _record(r: _native.StoreExecution) -> StoredExecution:
    return StoredExecution(
        arn=s(r.arn) or "", name=s(r.name) or "",
        machine_name=s(r.machine_name) or "", machine_arn=s(r.machine_arn),
        status=STATUSES[r.status], start_ms=r.start_ms, stop_ms=r.stop_ms,
        input=_loads(r.input), output=_loads(r.output), error=s(r.error),
        cause=s(r.cause), correlation_id=s(r.correlation_id),
        event_count=r.event_count, seq=r.seq)


def _free_store(handle: int) -> None:
    _native.lib().wf_store_free(handle)


class Store:
    """A store for engines (Engine(store=...)): Store.memory(),
    Store.sqlite(path) or Store.postgresql(conninfo). With a durable one,
    an engine opened on it after another stopped or crashed resumes the
    executions it left running (Engine.resume()). One engine per store at a time; engines keep their
    store alive, and it is closed once no engine uses it."""

    def __init__(self, handle: int) -> None:
        self._h: Optional[int] = handle
        self._users = 0  # engines using it (they keep it alive)
        self._finalizer = weakref.finalize(self, _free_store, handle)

    @staticmethod
    def _options(sync: str, retention_ms: int, retention_count: int,
                 read_only: bool) -> _native.StoreOptions:
        opts = _native.StoreOptions()
        check(_native.lib().wf_store_options_init(ctypes.byref(opts), 1))
        if sync not in ("full", "normal"):
            raise ValueError("sync must be 'full' or 'normal'")
        opts.sync = 0 if sync == "full" else 1
        opts.retention_ms = retention_ms
        opts.retention_count = retention_count
        opts.read_only = read_only
        return opts

    @classmethod
    def memory(cls, retention_count: int = 0) -> "Store":
        """A store in memory (what an engine without one uses): nothing
        survives the process. retention_count: ended executions kept (0:
        no limit)."""
        opts = cls._options("full", 0, retention_count, False)
        h = ctypes.c_void_p()
        err = _native.Error()
        check(_native.lib().wf_store_memory_new(
            ctypes.byref(h), ctypes.byref(opts), ctypes.byref(err)), err)
        assert h.value is not None
        return cls(h.value)

    @classmethod
    def sqlite(cls, path: Union[str, "os.PathLike[str]"], sync: str = "full",
               retention_ms: int = 0, retention_count: int = 0,
               read_only: bool = False) -> "Store":
        """Open or create a SQLite store (WAL mode).

        sync: "full" (fsync every commit, the default) or "normal" (a
        process crash loses nothing, a power failure may lose the last
        commits). retention_ms: ended executions are pruned this long after
        they stopped (0: 90 days; negative: never). read_only: may be opened
        while an engine writes the file."""
        opts = cls._options(sync, retention_ms, retention_count, read_only)
        h = ctypes.c_void_p()
        err = _native.Error()
        check(_native.lib().wf_store_sqlite_open(
            ctypes.byref(h), b(os.fspath(path)), ctypes.byref(opts),
            ctypes.byref(err)), err)
        assert h.value is not None
        return cls(h.value)

    @classmethod
    def postgresql(cls, conninfo: str, sync: str = "full",
                   retention_ms: int = 0, retention_count: int = 0,
                   read_only: bool = False, connections: int = 0,
                   password: Optional[str] = None, shared: bool = False,
                   lease_ms: int = 0) -> "Store":
        """Open a store in a PostgreSQL database (its wf_* tables are made
        when missing; a database written by a newer libworkflow is
        refused). conninfo: a libpq URI or connection string. password:
        when neither conninfo nor libpq's PGPASSWORD / ~/.pgpass gives it;
        never in an error's message. sync: "full" (synchronous commits,
        the default) or "normal" (synchronous_commit off: a crash of the
        server may lose the last commits). connections: at most this many
        (one writes, the others read; 0: 4). Unless shared, one process
        writes to a database at a time; read_only opens it beside the
        writer. shared: run the database's executions together with other
        processes that open it shared (each execution leased to one; those
        of a process that stops renewing its lease, lease_ms, 0: 10 s, go
        on in the others; an engine takes over an execution another runs
        when asked to stop it or complete its task)."""
        opts = cls._options(sync, retention_ms, retention_count, read_only)
        po = _native.PostgresOptions()
        check(_native.lib().wf_store_postgres_options_init(
            ctypes.byref(po), 2))
        po.store = ctypes.pointer(opts)
        po.shared = shared
        po.lease_ms = lease_ms
        po.connections = connections
        po.password = b(password) if password is not None else None
        h = ctypes.c_void_p()
        err = _native.Error()
        check(_native.lib().wf_store_postgres_open(
            ctypes.byref(h), b(conninfo), ctypes.byref(po),
            ctypes.byref(err)), err)
        assert h.value is not None
        return cls(h.value)

    def _handle(self) -> int:
        if self._h is None:
            raise ValueError("the store is closed")
        return self._h

    @property
    def durable(self) -> bool:
        """True when what it commits survives the process."""
        return bool(_native.lib().wf_store_is_durable(self._handle()))

    def execution(self, arn: str) -> StoredExecution:
        """The execution with this ARN; WorkflowError (WF_ENOTFOUND)."""
        found: List[StoredExecution] = []

        def cb(rec: Any, payload: Any) -> int:
            found.append(_record(rec.contents))
            return 0

        err = _native.Error()
        check(_native.lib().wf_store_get_execution(
            self._handle(), b(arn), _native.STORE_EXEC_CB(cb), None,
            ctypes.byref(err)), err)
        return found[0]

    def executions(self, machine_name: Optional[str] = None,
                   status: Optional[str] = None,
                   limit: int = 0) -> List[StoredExecution]:
        """Executions, newest first, optionally of one machine or status."""
        q = _native.StoreQuery(version=1, status=-1)
        q.machine_name = b(machine_name)
        if status is not None:
            q.status = STATUSES.index(status)
        q.limit = limit
        found: List[StoredExecution] = []

        def cb(rec: Any, payload: Any) -> int:
            found.append(_record(rec.contents))
            return 0

        err = _native.Error()
        check(_native.lib().wf_store_list_executions(
            self._handle(), ctypes.byref(q), _native.STORE_EXEC_CB(cb), None,
            ctypes.byref(err)), err)
        return found

    def events(self, arn: str, reverse: bool = False,
               limit: int = 0) -> List["dict[str, Any]"]:
        """An execution's history events as GetExecutionHistory gives
        them."""
        found: List[dict[str, Any]] = []

        def cb(ev: Any, payload: Any) -> int:
            found.append(json.loads(ev.contents.json.decode("utf-8")))
            return 0

        err = _native.Error()
        check(_native.lib().wf_store_read_events(
            self._handle(), b(arn), 0, reverse, limit,
            _native.STORE_EVENT_CB(cb), None, ctypes.byref(err)), err)
        return found

    def close(self) -> None:
        """Close the store now. Refused (WorkflowError WF_EBUSY) while an
        engine uses it: close the engine first, or drop both."""
        if self._h is None:
            return
        if self._users:
            raise WorkflowError(-12, "an engine still uses this store; "
                                "close the engine first")
        self._h = None
        self._finalizer()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
