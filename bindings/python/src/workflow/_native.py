"""Finding and loading libworkflow, and its C declarations for ctypes.

Private: the rest of the package calls the library only through lib().

Every foreign call goes through ctypes.CDLL, which releases the GIL for the
duration of the call; callbacks made with CFUNCTYPE take the GIL back
themselves. So Python holds the GIL only while Python runs, and a library
thread calling back into Python while a Python thread waits in the library
(wf_execution_wait, wf_engine_free) cannot deadlock on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import sysconfig
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ._version import __version__ as PACKAGE_VERSION

c = ctypes
_vp = c.c_void_p
_cp = c.c_char_p
_i64 = c.c_int64

LIBRARY_ENV = "WORKFLOW_LIBRARY"
SONAME = "libworkflow.so.0"


class Error(c.Structure):
    _fields_ = [("code", c.c_int), ("line", c.c_int), ("column", c.c_int),
                ("path", c.c_char * 256), ("message", c.c_char * 512)]


class LoadOptions(c.Structure):
    _fields_ = [("version", c.c_uint), ("type", c.c_int), ("name", _cp),
                ("diagnostics", c.POINTER(_vp)),
                ("allowed_resources", c.POINTER(_cp))]


LOG_CB = c.CFUNCTYPE(None, _cp, _vp)


class EngineOptions(c.Structure):
    _fields_ = [("version", c.c_uint), ("worker_threads", c.c_uint),
                ("scheduler_threads", c.c_uint), ("clock", _vp),
                ("payload_limit", c.c_size_t), ("history", c.c_int),
                ("log", LOG_CB), ("log_payload", _vp), ("log_path", _cp),
                ("log_level", c.c_int), ("region", _cp), ("account", _cp),
                ("seed", c.c_uint64),
                # version 2
                ("store", _vp),
                # version 3
                ("max_running", c.c_size_t),
                # version 4
                ("expression_cpu_ms", c.c_uint)]


ENGINE_OPTIONS_VERSION = 4


class StartOptions(c.Structure):
    _fields_ = [("version", c.c_uint), ("name", _cp),
                ("correlation_id", _cp), ("test_case", _cp),
                ("role_arn", _cp), ("machine_arn", _cp), ("flags", c.c_uint)]


START_OPTIONS_VERSION = 3


class Event(c.Structure):
    _fields_ = [("id", _i64), ("previous_id", _i64), ("timestamp_ms", _i64),
                ("type", _cp), ("execution_arn", _cp), ("json", _cp)]


# activity.h
ACTIVITY_CB = c.CFUNCTYPE(c.c_int, _vp, _vp)


class ActivityPollOptions(c.Structure):
    _fields_ = [("version", c.c_uint), ("worker_name", _cp),
                ("timeout_ms", _i64)]


ACTIVITY_POLL_OPTIONS_VERSION = 1


class StoreOptions(c.Structure):
    _fields_ = [("version", c.c_uint), ("sync", c.c_int),
                ("retention_ms", _i64), ("retention_count", c.c_size_t),
                ("read_only", c.c_bool)]


class ObjectStoreOptions(c.Structure):
    _fields_ = [("version", c.c_uint), ("root", _cp)]


class PostgresOptions(c.Structure):
    _fields_ = [("version", c.c_uint), ("store", c.POINTER(StoreOptions)),
                ("connections", c.c_uint), ("password", _cp),
                # version 2
                ("shared", c.c_bool), ("lease_ms", c.c_uint)]


class StoreQuery(c.Structure):
    _fields_ = [("version", c.c_uint), ("machine_name", _cp),
                ("machine_arn", _cp), ("status", c.c_int),
                ("before_seq", _i64), ("limit", c.c_size_t)]


class StoreExecution(c.Structure):
    _fields_ = [("arn", _cp), ("name", _cp), ("machine_name", _cp),
                ("machine_arn", _cp), ("definition_id", _cp),
                ("status", c.c_int), ("start_ms", _i64), ("stop_ms", _i64),
                ("input", _cp), ("output", _cp), ("error", _cp),
                ("cause", _cp), ("correlation_id", _cp), ("role_arn", _cp),
                ("event_count", _i64), ("state", _cp), ("seq", _i64),
                ("output_value", _vp)]


class StoreEvent(c.Structure):
    _fields_ = [("execution_arn", _cp), ("id", _i64), ("previous_id", _i64),
                ("timestamp_ms", _i64), ("type", _cp), ("json", _cp)]


HANDLER_CB = c.CFUNCTYPE(None, _vp, _vp)
EVENT_CB = c.CFUNCTYPE(None, c.POINTER(Event), _vp)
STORE_EXEC_CB = c.CFUNCTYPE(c.c_int, c.POINTER(StoreExecution), _vp)
STORE_EVENT_CB = c.CFUNCTYPE(c.c_int, c.POINTER(StoreEvent), _vp)

HANDLER_INLINE = 1
HANDLER_PREFIX = 2

MACHINE_TARGET_VERSION = 1
MACHINE_TARGET_ARN_MAX = 320


class MachineTarget(c.Structure):
    _fields_ = [("version", c.c_uint), ("machine", _vp),
                ("machine_arn", c.c_char * MACHINE_TARGET_ARN_MAX),
                ("version_arn", c.c_char * MACHINE_TARGET_ARN_MAX),
                ("role_arn", c.c_char * MACHINE_TARGET_ARN_MAX),
                ("execution_name", _cp)]


RESOLVE_CB = c.CFUNCTYPE(c.c_int, c.POINTER(MachineTarget), _cp, _vp,
                         c.POINTER(Error))

class TestStateOptions(c.Structure):
    _fields_ = [("version", c.c_uint), ("input", _cp),
                ("inspection_level", c.c_int), ("reveal_secrets", c.c_int),
                ("variables", _cp), ("state_name", _cp),
                ("mock_result", _cp), ("mock_error", _cp),
                ("mock_cause", _cp), ("mock_validation", c.c_int),
                ("context", _cp), ("retrier_retry_count", c.c_int),
                ("error_caused_by_state", _cp),
                ("map_iteration_failure_count", c.c_int),
                ("map_item_reader_data", _cp), ("role_arn", _cp)]


_P = c.POINTER(_vp)
_SIGNATURES: Dict[str, Tuple[Any, List[Any]]] = {
    "wf_error_name": (_cp, [c.c_int]),
    "wf_error_str": (_cp, [c.c_int]),
    "wf_version_string": (_cp, []),
    "wf_string_free": (None, [_vp]),
    # machine.h
    "wf_load_options_init": (c.c_int, [_vp, c.c_uint]),
    "wf_machine_load_json": (c.c_int, [_P, _cp, _vp, _vp]),
    "wf_machine_load_yaml": (c.c_int, [_P, _cp, _vp, _vp]),
    "wf_machine_load_file": (c.c_int, [_P, _cp, _vp, _vp]),
    "wf_machine_free": (None, [_vp]),
    "wf_machine_ref": (_vp, [_vp]),
    "wf_machine_get_type": (c.c_int, [_vp]),
    "wf_machine_name": (_cp, [_vp]),
    "wf_machine_start_at": (_cp, [_vp]),
    "wf_machine_state_count": (c.c_size_t, [_vp]),
    "wf_machine_definition": (_cp, [_vp]),
    "wf_diagnostics_count": (c.c_size_t, [_vp]),
    "wf_diagnostics_code": (_cp, [_vp, c.c_size_t]),
    "wf_diagnostics_message": (_cp, [_vp, c.c_size_t]),
    "wf_diagnostics_location": (_cp, [_vp, c.c_size_t]),
    "wf_diagnostics_line": (c.c_int, [_vp, c.c_size_t]),
    "wf_diagnostics_column": (c.c_int, [_vp, c.c_size_t]),
    "wf_diagnostics_free": (None, [_vp]),
    "wf_yaml_to_json": (c.c_int, [_P, _cp, _vp]),
    # clock.h
    "wf_clock_virtual_new": (c.c_int, [_P, _i64]),
    "wf_clock_now": (_i64, [_vp]),
    "wf_clock_advance": (c.c_int, [_vp, _i64]),
    "wf_clock_free": (None, [_vp]),
    # engine.h
    "wf_engine_options_init": (c.c_int, [_vp, c.c_uint]),
    "wf_engine_new": (c.c_int, [_P, _vp, _vp]),
    "wf_engine_free": (None, [_vp]),
    "wf_engine_resume": (c.c_int, [_vp, c.POINTER(c.c_size_t), _vp]),
    "wf_engine_find_execution": (c.c_int, [_P, _vp, _cp]),
    "wf_engine_redrive": (c.c_int, [_P, _vp, _cp, _vp]),
    "wf_engine_register_handler": (c.c_int, [_vp, _cp, HANDLER_CB, _vp,
                                             c.c_uint, _vp]),
    "wf_engine_unregister_handler": (c.c_int, [_vp, _cp, c.c_uint]),
    "wf_engine_set_mock_config": (c.c_int, [_vp, _cp, _vp]),
    # nested.h
    "wf_engine_set_machine_resolver": (c.c_int, [_vp, RESOLVE_CB, _vp, _vp]),
    # object_store.h
    "wf_object_store_options_init": (c.c_int, [_vp, c.c_uint]),
    "wf_engine_set_object_store": (c.c_int, [_vp, _vp, _vp]),
    # test_state.h
    "wf_test_state_options_init": (c.c_int, [_vp, c.c_uint]),
    "wf_engine_test_state": (c.c_int, [_P, _vp, _cp, _vp, _vp]),
    "wf_test_state_status": (c.c_int, [_vp]),
    "wf_test_status_name": (_cp, [c.c_int]),
    "wf_test_state_output": (_cp, [_vp]),
    "wf_test_state_error": (_cp, [_vp]),
    "wf_test_state_cause": (_cp, [_vp]),
    "wf_test_state_next": (_cp, [_vp]),
    "wf_test_state_inspection": (_cp, [_vp]),
    "wf_test_state_result_free": (None, [_vp]),
    "wf_engine_add_listener": (c.c_int, [_vp, EVENT_CB, _vp]),
    "wf_start_options_init": (c.c_int, [_vp, c.c_uint]),
    "wf_engine_start": (c.c_int, [_P, _vp, _vp, _cp, _vp, _vp]),
    "wf_engine_run": (c.c_int, [_P, _vp, _vp, _cp, _vp, _vp]),
    "wf_execution_wait": (c.c_int, [_vp, _i64]),
    "wf_execution_status": (c.c_int, [_vp]),
    "wf_execution_output": (_cp, [_vp]),
    "wf_execution_error": (_cp, [_vp]),
    "wf_execution_cause": (_cp, [_vp]),
    "wf_execution_name": (_cp, [_vp]),
    "wf_execution_arn": (_cp, [_vp]),
    "wf_execution_start_time": (_i64, [_vp]),
    "wf_execution_stop_time": (_i64, [_vp]),
    "wf_execution_stop": (c.c_int, [_vp, _cp, _cp]),
    "wf_execution_history": (_vp, [_vp, c.c_int]),
    "wf_execution_history_count": (c.c_size_t, [_vp]),
    "wf_execution_free": (None, [_vp]),
    "wf_engine_send_task_success": (c.c_int, [_vp, _cp, _cp, _vp]),
    "wf_engine_send_task_failure": (c.c_int, [_vp, _cp, _cp, _cp, _vp]),
    "wf_engine_send_task_heartbeat": (c.c_int, [_vp, _cp, _vp]),
    # activity.h
    "wf_engine_activity_create": (c.c_int, [_P, _vp, _cp, _cp, _vp]),
    "wf_engine_activity_describe": (c.c_int, [_P, _vp, _cp, _vp]),
    "wf_engine_activity_list": (c.c_int, [_vp, ACTIVITY_CB, _vp, _vp]),
    "wf_engine_activity_delete": (c.c_int, [_vp, _cp, _vp]),
    "wf_engine_activity_set_tags": (c.c_int, [_vp, _cp, _cp, _vp]),
    "wf_activity_arn": (_cp, [_vp]),
    "wf_activity_name": (_cp, [_vp]),
    "wf_activity_creation_date": (_i64, [_vp]),
    "wf_activity_tags": (_cp, [_vp]),
    "wf_activity_free": (None, [_vp]),
    "wf_activity_poll_options_init": (c.c_int, [_vp, c.c_uint]),
    "wf_engine_activity_get_task": (c.c_int, [_P, _vp, _cp, _vp, _vp]),
    # handler.h
    "wf_task_input": (_cp, [_vp]),
    "wf_task_resource": (_cp, [_vp]),
    "wf_task_execution_name": (_cp, [_vp]),
    "wf_task_execution_arn": (_cp, [_vp]),
    "wf_task_state_name": (_cp, [_vp]),
    "wf_task_correlation_id": (_cp, [_vp]),
    "wf_task_token": (_cp, [_vp]),
    "wf_task_redelivered": (c.c_int, [_vp]),
    "wf_task_idempotency_key": (_cp, [_vp]),
    "wf_task_attempt": (c.c_uint, [_vp]),
    "wf_task_deadline": (_i64, [_vp]),
    "wf_task_cancelled": (c.c_int, [_vp]),
    "wf_task_retain": (None, [_vp]),
    "wf_task_release": (None, [_vp]),
    "wf_task_succeed": (c.c_int, [_vp, _cp]),
    "wf_task_fail": (c.c_int, [_vp, _cp, _cp]),
    "wf_task_heartbeat": (c.c_int, [_vp]),
    "wf_task_log": (None, [_vp, c.c_int, _cp, _cp]),
    # plugin.h
    "wf_engine_add_plugin_dir": (c.c_int, [_vp, _cp, _vp]),
    "wf_engine_load_plugin": (c.c_int, [_P, _vp, _cp, _cp, _vp]),
    "wf_plugin_unload": (None, [_vp]),
    "wf_plugin_name": (_cp, [_vp]),
    "wf_plugin_path": (_cp, [_vp]),
    # store.h
    "wf_store_options_init": (c.c_int, [_vp, c.c_uint]),
    "wf_store_memory_new": (c.c_int, [_P, _vp, _vp]),
    "wf_store_sqlite_open": (c.c_int, [_P, _cp, _vp, _vp]),
    "wf_store_postgres_options_init": (c.c_int, [_vp, c.c_uint]),
    "wf_store_postgres_open": (c.c_int, [_P, _cp, _vp, _vp]),
    "wf_store_free": (None, [_vp]),
    "wf_store_is_durable": (c.c_bool, [_vp]),
    "wf_store_get_execution": (c.c_int, [_vp, _cp, STORE_EXEC_CB, _vp,
                                         _vp]),
    "wf_store_list_executions": (c.c_int, [_vp, _vp, STORE_EXEC_CB, _vp,
                                           _vp]),
    "wf_store_read_events": (c.c_int, [_vp, _cp, _i64, c.c_bool,
                                       c.c_size_t, STORE_EVENT_CB, _vp, _vp]),
    "wf_store_prune": (c.c_int, [_vp, _i64, c.c_size_t,
                                 c.POINTER(c.c_size_t), _vp]),
}


class LibraryNotFoundError(OSError):
    """libworkflow could not be loaded from any of the places searched.

    ``tried`` lists each place and why it failed."""

    def __init__(self, tried: Sequence[Tuple[str, str]]) -> None:
        lines = "\n".join(f"  - {where}: {why}" for where, why in tried)
        super().__init__(
            "libworkflow could not be loaded. Searched, in order:\n" + lines +
            f"\nSet {LIBRARY_ENV} to the path of {SONAME}, install the "
            "library into this Python's prefix (cmake --install build "
            "--prefix PREFIX), or install it system-wide.")
        self.tried = list(tried)


def _prefix_candidates() -> List[Path]:
    """Library files under the install prefix: the prefix this package was
    installed into (…/lib/pythonX.Y/site-packages/workflow, or Debian's
    …/lib/python3/dist-packages/workflow), then sys.prefix."""
    prefixes: List[Path] = []
    here = Path(__file__).resolve().parent
    for parent in here.parents:
        if parent.name in ("site-packages", "dist-packages") and \
                parent.parent.name.startswith("python") and \
                parent.parent.parent.name in ("lib", "lib64"):
            prefixes.append(parent.parent.parent.parent)
            break
    for p in (sys.prefix, sys.base_prefix):
        if Path(p) not in prefixes:
            prefixes.append(Path(p))
    arch = sysconfig.get_config_var("MULTIARCH") or ""
    libdirs = ["lib", "lib64"] + ([f"lib/{arch}"] if arch else [])
    return [pre / d / SONAME for pre in prefixes for d in libdirs]


def locate() -> List[Tuple[str, str]]:
    """Where the library is looked for, in order: (kind, path or name)."""
    places: List[Tuple[str, str]] = []
    env = os.environ.get(LIBRARY_ENV)
    if env:
        places.append((LIBRARY_ENV, env))
    for path in _prefix_candidates():
        places.append(("install prefix", str(path)))
    found = ctypes.util.find_library("workflow")
    if found:
        places.append(("system", found))
    places.append(("system", SONAME))
    return places


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None


def _declare(lib: ctypes.CDLL) -> None:
    for name, (res, args) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def lib() -> ctypes.CDLL:
    """The loaded library (loaded on first use). Raises
    LibraryNotFoundError naming every place tried."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        tried: List[Tuple[str, str]] = []
        env_set = bool(os.environ.get(LIBRARY_ENV))
        if not env_set:
            tried.append((LIBRARY_ENV, "not set"))
        for kind, where in locate():
            if kind == "install prefix" and not os.path.exists(where):
                tried.append((f"install prefix {where}", "no such file"))
                continue
            try:
                handle = ctypes.CDLL(where)
                _declare(handle)
            except (OSError, AttributeError) as ex:
                tried.append((f"{kind} {where}", str(ex)))
                if kind == LIBRARY_ENV:
                    # An explicit choice that fails is not silently replaced.
                    raise LibraryNotFoundError(tried) from ex
                continue
            version = handle.wf_version_string().decode()
            if version.split(".")[0] != PACKAGE_VERSION.split(".")[0]:
                tried.append((f"{kind} {where}",
                              f"version {version}, but this package needs "
                              f"{PACKAGE_VERSION.split('.')[0]}.x"))
                continue
            _lib = handle
            return handle
        raise LibraryNotFoundError(tried)


def b(s: Optional[str]) -> Optional[bytes]:
    """str to UTF-8 bytes (None stays None)."""
    return None if s is None else s.encode("utf-8")


def s(raw: Optional[bytes]) -> Optional[str]:
    """UTF-8 bytes to str (None stays None)."""
    return None if raw is None else raw.decode("utf-8", "replace")


def take_string(ptr: Optional[int]) -> Optional[str]:
    """Read and free a string the library allocated."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        lib().wf_string_free(ptr)


def error_name(code: int) -> str:
    return str(lib().wf_error_name(code).decode())

