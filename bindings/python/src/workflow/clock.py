"""Time sources: the virtual clock."""

from __future__ import annotations

import ctypes
import weakref
from typing import Optional

from . import _native
from .errors import check

__all__ = ["Clock"]


def _free_clock(handle: int) -> None:
    _native.lib().wf_clock_free(handle)


class Clock:
    """A virtual clock: Wait states, retry back-offs and timeouts of the
    engines using it take no real time (it jumps to the next timer when
    nothing else can run), while timestamps and $$ times advance as if the
    time had passed. Give it to Engine(clock=...) or use
    Engine(virtual_time=True), which makes one.

    Engines keep their clock alive; it is freed once no engine uses it."""

    def __init__(self, start_ms: int = 0) -> None:
        """start_ms: the initial time in ms since the epoch; 0 means now."""
        h = ctypes.c_void_p()
        check(_native.lib().wf_clock_virtual_new(ctypes.byref(h), start_ms))
        assert h.value is not None
        self._h: Optional[int] = h.value
        self._users = 0  # engines using it (they keep it alive)
        self._finalizer = weakref.finalize(self, _free_clock, h.value)

    def _handle(self) -> int:
        if self._h is None:
            raise ValueError("the clock is closed")
        return self._h

    def now(self) -> int:
        """The clock's time in ms since the epoch."""
        return int(_native.lib().wf_clock_now(self._handle()))

    def advance(self, ms: int) -> None:
        """Move the clock forward by ms (>= 0): timers that fall due fire
        (a handler that blocks holds the virtual clock still; this moves it
        anyway, e.g. to make a task time out)."""
        check(_native.lib().wf_clock_advance(self._handle(), ms))
