"""State machines: load, validate and inspect ASL definitions."""

from __future__ import annotations

import ctypes
import json
import os
import weakref
from typing import Any, List, Optional, Sequence, Tuple, Union

from . import _native
from ._native import b, s
from .errors import DefinitionError

__all__ = ["Machine"]

Definition = Union[str, "dict[str, Any]"]


def _free_machine(handle: int) -> None:
    _native.lib().wf_machine_free(handle)


class Machine:
    """A compiled, immutable state machine (JSONPath or JSONata).

    Load one with from_json(), from_yaml() or from_file(); a definition AWS
    would reject raises DefinitionError with AWS's diagnostics. A machine
    may be shared by any number of executions, engines and threads. Running
    executions keep it alive in the library after close()."""

    def __init__(self, handle: int) -> None:
        self._h: Optional[int] = handle
        self._finalizer = weakref.finalize(self, _free_machine, handle)

    @classmethod
    def _load(cls, how: str, text: str, name: Optional[str], express: bool,
              allowed: Optional[Sequence[str]]) -> "Machine":
        lib = _native.lib()
        opts = _native.LoadOptions()
        lib.wf_load_options_init(ctypes.byref(opts), 1)
        opts.name = b(name)
        opts.type = 1 if express else 0
        diags = ctypes.c_void_p()
        opts.diagnostics = ctypes.pointer(diags)
        if allowed is not None:
            keep = (ctypes.c_char_p * (len(allowed) + 1))(
                *[b(a) for a in allowed], None)
            opts.allowed_resources = ctypes.cast(
                keep, ctypes.POINTER(ctypes.c_char_p))
        h = ctypes.c_void_p()
        err = _native.Error()
        rc = getattr(lib, how)(ctypes.byref(h), b(text), ctypes.byref(opts),
                               ctypes.byref(err))
        if rc != 0:
            found: List[Tuple[str, str, Optional[str]]] = []
            if diags.value:
                for i in range(lib.wf_diagnostics_count(diags)):
                    found.append((s(lib.wf_diagnostics_code(diags, i)) or "",
                                  s(lib.wf_diagnostics_message(diags, i))
                                  or "",
                                  s(lib.wf_diagnostics_location(diags, i))))
                lib.wf_diagnostics_free(diags)
            raise DefinitionError(rc, err.message.decode("utf-8", "replace"),
                                  err.path.decode("utf-8", "replace"), found)
        assert h.value is not None
        return cls(h.value)

    @classmethod
    def from_json(cls, definition: Definition, name: Optional[str] = None,
                  express: bool = False,
                  allowed_resources: Optional[Sequence[str]] = None
                  ) -> "Machine":
        """Load a definition given as JSON text or as a dict.

        name: the machine's name (its ARN, $$.StateMachine.Name, and the key
        of a MockConfigFile's StateMachines); default "StateMachine".
        express: apply AWS's EXPRESS rules. allowed_resources: the only Task
        resources it may call (an entry ending in '*' is a prefix)."""
        text = definition if isinstance(definition, str) \
            else json.dumps(definition)
        return cls._load("wf_machine_load_json", text, name, express,
                         allowed_resources)

    @classmethod
    def from_yaml(cls, text: str, name: Optional[str] = None,
                  express: bool = False,
                  allowed_resources: Optional[Sequence[str]] = None
                  ) -> "Machine":
        """Load a definition from YAML text (same rules as from_json)."""
        return cls._load("wf_machine_load_yaml", text, name, express,
                         allowed_resources)

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"],
                  name: Optional[str] = None, express: bool = False,
                  allowed_resources: Optional[Sequence[str]] = None
                  ) -> "Machine":
        """Load a definition file: YAML when it ends in .yaml/.yml, JSON
        otherwise. An unreadable file raises WorkflowError (WF_EIO)."""
        return cls._load("wf_machine_load_file", os.fspath(path), name,
                         express, allowed_resources)

    def _handle(self) -> int:
        if self._h is None:
            raise ValueError("the machine is closed")
        return self._h

    @property
    def name(self) -> str:
        """The machine's name."""
        return s(_native.lib().wf_machine_name(self._handle())) or ""

    @property
    def express(self) -> bool:
        """True for an EXPRESS machine."""
        return bool(_native.lib().wf_machine_get_type(self._handle()))

    @property
    def start_at(self) -> str:
        """The top-level StartAt state."""
        return s(_native.lib().wf_machine_start_at(self._handle())) or ""

    @property
    def state_count(self) -> int:
        """Number of states, nested ones included."""
        return int(_native.lib().wf_machine_state_count(self._handle()))

    @property
    def definition(self) -> "dict[str, Any]":
        """The definition as a dict (the same for YAML and JSON sources)."""
        text = s(_native.lib().wf_machine_definition(self._handle()))
        value: dict[str, Any] = json.loads(text or "{}")
        return value

    def close(self) -> None:
        """Release this reference (executions keep their own)."""
        self._h = None
        self._finalizer()

    def __enter__(self) -> "Machine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<workflow.Machine {self.name!r}>" if self._h else \
            "<workflow.Machine closed>"
