"""Testing state machines: run a definition with mocked Task states on a
virtual clock, and assert on what happened.

    from workflow.testing import Runner, Throw

    with Runner() as runner:
        result = runner.run("machine.asl.json", {"x": 1}, mocks={
            "Charge": [Throw("Payment.Declined", "card expired"),
                       {"charged": True}],
        })
        result.assert_succeeded()
        result.assert_path("Charge", "Done")
        result.assert_retries("Charge", 1)

The pytest plugin (workflow.pytest_plugin) hands a Runner to each test as
the ``workflow_runner`` fixture. Static mocks become a Step Functions Local
MockConfigFile test case, answered by the library itself; callables are
Python handlers for their states.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import (Any, Callable, Dict, Iterator, List, Mapping, Optional,
                    Sequence, Tuple, Union)

from .engine import Context, Engine, Execution
from .errors import TaskFailed
from .machine import Machine

__all__ = ["Return", "Throw", "Runner", "Result", "Caught", "MockSpec"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Return:
    """A mocked result (use it for a result that is itself a list, which
    would otherwise mean one response per invocation)."""
    value: Any


@dataclass(frozen=True)
class Throw:
    """A mocked failure: the task fails with this error and cause."""
    error: str
    cause: Optional[str] = None


MockSpec = Any
"""What ``mocks`` maps a state name to: a value (its result on every
invocation), Return(value), Throw(error, cause), a list of those (one per
invocation: the first call gets the first, a retry the next; calls past the
end fail as Step Functions Local does), or a callable fn(input) /
fn(input, context), sync or async, called as a handler for that state."""


@dataclass(frozen=True)
class Caught:
    """A Catch that fired: the error it caught, the catcher's index in the
    state's Catch array and the state it went to."""
    state: str
    error: Optional[str]
    cause: Optional[str]
    index: Optional[int]
    next: Optional[str]


_TERMINAL_FAILURES = ("Failed", "TimedOut", "Aborted")


def _details(ev: Mapping[str, Any]) -> Dict[str, Any]:
    for k, v in ev.items():
        if k.endswith("EventDetails") and isinstance(v, dict):
            return v
    return {}


def _short(text: Any, n: int = 100) -> str:
    t = text if isinstance(text, str) else json.dumps(text)
    return t if len(t) <= n else t[:n - 3] + "..."


def _walk_states(states: Mapping[str, Any]
                 ) -> Iterator[Tuple[str, Mapping[str, Any]]]:
    for name, st in states.items():
        yield name, st
        for br in st.get("Branches", []) or []:
            yield from _walk_states(br.get("States", {}))
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(st.get(key), dict):
                yield from _walk_states(st[key].get("States", {}))


def _error_matches(pattern: str, error: Optional[str]) -> bool:
    """ASL's ErrorEquals: States.ALL matches anything, States.TaskFailed
    anything but States.Timeout, otherwise the name itself."""
    if pattern == "States.ALL":
        return True
    if pattern == "States.TaskFailed":
        return error != "States.Timeout"
    return pattern == error


@dataclass
class _Entry:
    name: str
    enter_id: int
    events: List[Dict[str, Any]]
    exit_id: Optional[int] = None


class Result:
    """The outcome of one run: status, output, error and cause, the history,
    the path of states taken, and assertions whose failure message shows
    the path and the history around the failure."""

    def __init__(self, execution: Execution, machine: Machine,
                 timed_out: bool = False) -> None:
        self.execution = execution
        self.status = execution.status
        self.output = execution.output
        self.error = execution.error
        self.cause = execution.cause
        self.history: List[Dict[str, Any]] = execution.history()
        self.definition = machine.definition
        self.stuck = timed_out
        self._states = dict(_walk_states(self.definition.get("States", {})))
        self._entries: List[_Entry] = []
        self._by_id: Dict[int, Dict[str, Any]] = {}
        self._parse()

    # ---- reading the history -------------------------------------------

    def _parse(self) -> None:
        owner: Dict[int, Optional[_Entry]] = {}
        for ev in self.history:
            eid, prev, t = ev["id"], ev.get("previousEventId", 0), ev["type"]
            self._by_id[eid] = ev
            d = _details(ev)
            if t.endswith("StateEntered"):
                entry = _Entry(d.get("name", "?"), eid, [ev])
                self._entries.append(entry)
                owner[eid] = entry
                continue
            parent = owner.get(prev)
            prev_ev = self._by_id.get(prev)
            if prev_ev is not None and prev_ev["type"].endswith("StateExited"):
                parent = None
            if t.endswith("StateExited"):
                name = d.get("name")
                if parent is None or parent.name != name:
                    parent = next((e for e in reversed(self._entries)
                                   if e.name == name and e.exit_id is None),
                                  None)
                if parent is not None:
                    parent.exit_id = eid
            if parent is not None:
                parent.events.append(ev)
            owner[eid] = parent

    @property
    def path(self) -> List[str]:
        """The states entered, in the order of their events (branches and
        Map iterations included)."""
        return [e.name for e in self._entries]

    def _entries_of(self, state: str) -> List[_Entry]:
        return [e for e in self._entries if e.name == state]

    def attempts(self, state: str) -> int:
        """How many times the state's task was called (every entry, every
        retry)."""
        return sum(1 for e in self._entries_of(state) for ev in e.events
                   if ev["type"].endswith("Scheduled"))

    def retries(self, state: str) -> int:
        """How many times Retry called the state's task again."""
        entries = [e for e in self._entries_of(state)
                   if any(ev["type"].endswith("Scheduled")
                          for ev in e.events)]
        return self.attempts(state) - len(entries)

    def caught(self, state: str) -> Optional[Caught]:
        """The Catch that fired in the state's last entry, or None."""
        for entry in reversed(self._entries_of(state)):
            return self._caught_in(entry)
        return None

    def _caught_in(self, entry: _Entry) -> Optional[Caught]:
        if entry.exit_id is None:
            return None
        last = None
        for ev in entry.events:
            t = ev["type"]
            if t.endswith("StateEntered") or t.endswith("StateExited"):
                continue
            if t.endswith("Succeeded") or t.endswith(_TERMINAL_FAILURES):
                last = ev
        if last is None or not last["type"].endswith(_TERMINAL_FAILURES):
            return None
        d = _details(last)
        error, cause = d.get("error"), d.get("cause")
        nxt = next((e.name for e in self._entries
                    if self._by_id[e.enter_id].get("previousEventId")
                    == entry.exit_id), None)
        index = None
        catchers = self._states.get(entry.name, {}).get("Catch", []) or []
        for i, c in enumerate(catchers):
            if c.get("Next") == nxt and any(
                    _error_matches(p, error) for p in c.get("ErrorEquals", [])):
                index = i
                break
        return Caught(entry.name, error, cause, index, nxt)

    def state_output(self, state: str) -> Any:
        """The output of the state's last exit (None if it never left)."""
        for entry in reversed(self._entries_of(state)):
            if entry.exit_id is not None:
                out = _details(self._by_id[entry.exit_id]).get("output")
                return None if out is None else json.loads(out)
        return None

    def state_input(self, state: str) -> Any:
        """The input of the state's last entry (None if never entered)."""
        for entry in reversed(self._entries_of(state)):
            text = _details(self._by_id[entry.enter_id]).get("input")
            return None if text is None else json.loads(text)
        return None

    # ---- explaining -----------------------------------------------------

    def _describe(self, ev: Mapping[str, Any]) -> str:
        d = _details(ev)
        owner = next((e.name for e in self._entries if ev in e.events), None)
        parts = [f"#{ev['id']:<3} {ev['type']}"]
        if owner:
            parts.append(f"[{owner}]")
        if "error" in d:
            parts.append(f"error={d['error']}")
        if d.get("cause"):
            parts.append(f"cause={_short(d['cause'], 80)}")
        if "output" in d and ev["type"].endswith("Succeeded"):
            parts.append(f"output={_short(d['output'], 80)}")
        return " ".join(parts)

    def explain(self, focus: Optional[int] = None, around: int = 10) -> str:
        """Status, path and the history events before `focus` (an event id;
        default: the first failure, else the end)."""
        lines = [f"status: {self.status}" +
                 (f" ({self.error}: {self.cause})" if self.error else "")]
        if self.stuck:
            lines.append("the execution had not ended when the run's timeout "
                         "passed (a task left pending?); it was stopped")
        lines.append("path: " + (" -> ".join(self.path) or "(no state)"))
        if not self.history:
            lines.append("(no history: the engine kept none)")
            return "\n".join(lines)
        if focus is None:
            failing = [ev for ev in self.history
                       if ev["type"].endswith(_TERMINAL_FAILURES) and
                       not ev["type"].startswith("Execution")]
            focus = failing[-1]["id"] if failing else self.history[-1]["id"]
        idx = next((i for i, ev in enumerate(self.history)
                    if ev["id"] == focus), len(self.history) - 1)
        lo, hi = max(0, idx - around), min(len(self.history), idx + 3)
        lines.append(f"history (events {self.history[lo]['id']}-"
                     f"{self.history[hi - 1]['id']} of "
                     f"{len(self.history)}):")
        for ev in self.history[lo:hi]:
            mark = ">" if ev["id"] == focus else " "
            lines.append(f" {mark} {self._describe(ev)}")
        return "\n".join(lines)

    def _fail(self, what: str, focus: Optional[int] = None) -> None:
        __tracebackhide__ = True  # pytest: show the caller
        raise AssertionError(f"{what}\n{self.explain(focus)}")

    def _state_focus(self, state: str) -> Optional[int]:
        entries = self._entries_of(state)
        if not entries:
            return None
        evs = entries[-1].events
        failing = [ev for ev in evs
                   if ev["type"].endswith(_TERMINAL_FAILURES)]
        return int((failing[-1] if failing else evs[-1])["id"])

    # ---- assertions -----------------------------------------------------

    def assert_status(self, status: str) -> "Result":
        __tracebackhide__ = True  # pytest: show the caller
        if self.status != status:
            self._fail(f"expected status {status}, got {self.status}")
        return self

    def assert_succeeded(self, output: Any = ...) -> "Result":
        """Status SUCCEEDED (and, when given, this exact output)."""
        __tracebackhide__ = True  # pytest: show the caller
        self.assert_status("SUCCEEDED")
        if output is not ... and self.output != output:
            self._fail(f"output differs:\n  expected {_short(output, 400)}"
                       f"\n  got      {_short(self.output, 400)}")
        return self

    def assert_failed(self, error: Optional[str] = None,
                      cause: Optional[str] = None) -> "Result":
        """Status FAILED, with this error (and cause) when given."""
        __tracebackhide__ = True  # pytest: show the caller
        self.assert_status("FAILED")
        if error is not None and self.error != error:
            self._fail(f"expected error {error!r}, got {self.error!r}")
        if cause is not None and self.cause != cause:
            self._fail(f"expected cause {cause!r}, got {self.cause!r}")
        return self

    def assert_output_contains(self, subset: Mapping[str, Any]) -> "Result":
        """The output is an object holding these members (compared
        whole)."""
        __tracebackhide__ = True  # pytest: show the caller
        out = self.output if isinstance(self.output, dict) else {}
        missing = {k: v for k, v in subset.items()
                   if k not in out or out[k] != v}
        if missing or not isinstance(self.output, dict):
            self._fail(f"output lacks {_short(missing, 400)}; output is "
                       f"{_short(self.output, 400)}")
        return self

    def assert_path(self, *states: str, exact: bool = True) -> "Result":
        """The states taken are exactly these (exact=False: these appear in
        this order, others may come between)."""
        __tracebackhide__ = True  # pytest: show the caller
        path = self.path
        if exact:
            ok = path == list(states)
        else:
            it = iter(path)
            ok = all(any(p == s for p in it) for s in states)
        if not ok:
            kind = "path" if exact else "path containing, in order,"
            self._fail(f"expected {kind} {' -> '.join(states)}\n"
                       f"got path      {' -> '.join(path)}")
        return self

    def assert_visited(self, state: str) -> "Result":
        __tracebackhide__ = True  # pytest: show the caller
        if state not in self.path:
            self._fail(f"state {state!r} was never entered")
        return self

    def assert_not_visited(self, state: str) -> "Result":
        __tracebackhide__ = True  # pytest: show the caller
        if state in self.path:
            self._fail(f"state {state!r} was entered",
                       self._entries_of(state)[0].enter_id)
        return self

    def assert_retries(self, state: str, count: int) -> "Result":
        """Retry called the state's task again exactly `count` times."""
        __tracebackhide__ = True  # pytest: show the caller
        got = self.retries(state)
        if got != count:
            self._fail(f"expected {count} retries of {state!r}, got {got} "
                       f"({self.attempts(state)} attempts)",
                       self._state_focus(state))
        return self

    def assert_caught(self, state: str, error: Optional[str] = None,
                      next: Optional[str] = None,
                      index: Optional[int] = None) -> Caught:
        """A Catch of `state` fired (for this error, going to `next`, the
        catcher at `index`, when given). Returns what was caught."""
        __tracebackhide__ = True  # pytest: show the caller
        c = self.caught(state)
        if c is None:
            self._fail(f"no Catch of {state!r} fired", self._state_focus(state))
            raise AssertionError  # unreachable: _fail raises
        for what, want, got in (("error", error, c.error),
                                ("next state", next, c.next),
                                ("catcher index", index, c.index)):
            if want is not None and want != got:
                self._fail(f"the Catch of {state!r} fired with {what} "
                           f"{got!r}, expected {want!r}",
                           self._state_focus(state))
        return c

    def assert_not_caught(self, state: str) -> "Result":
        __tracebackhide__ = True  # pytest: show the caller
        c = self.caught(state)
        if c is not None:
            self._fail(f"a Catch of {state!r} fired ({c.error} -> {c.next})",
                       self._state_focus(state))
        return self

    def __repr__(self) -> str:
        return (f"<workflow.testing.Result {self.status} path="
                f"{' -> '.join(self.path)}>")


def _responses(spec: Any) -> Optional[Dict[str, Any]]:
    """A static mock as MockedResponses entries; None for a callable."""
    if callable(spec) and not isinstance(spec, (Return, Throw)):
        return None
    items = spec if isinstance(spec, list) else [spec]
    out: Dict[str, Any] = {}
    for i, item in enumerate(items):
        if isinstance(item, Throw):
            thr: Dict[str, Any] = {"Error": item.error}
            if item.cause is not None:
                thr["Cause"] = item.cause
            out[str(i)] = {"Throw": thr}
        elif isinstance(item, Return):
            out[str(i)] = {"Return": item.value}
        elif callable(item):
            raise TypeError("a list of mocked responses cannot hold a "
                            "callable; make the callable count calls itself")
        else:
            out[str(i)] = {"Return": item}
    if not out:
        raise ValueError("an empty list mocks no invocation")
    return out


class Runner:
    """Runs state machines for tests: each run() gets a fresh engine on a
    virtual clock (waits, back-offs and timeouts take no real time), so a
    run takes milliseconds and runs cannot disturb each other."""

    def __init__(self, base_dir: Optional[PathLike] = None, *,
                 start_ms: int = 0, seed: int = 0,
                 timeout: float = 10.0) -> None:
        """base_dir: where relative definition and mock file names are
        looked for first (then the current directory). start_ms: the
        virtual clock's start (0: now). timeout: real seconds a run may
        take before it is stopped and reported."""
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.start_ms = start_ms
        self.seed = seed
        self.timeout = timeout
        self._machines: Dict[Tuple[str, str, bool], Machine] = {}
        self._engines: List[Engine] = []

    def _resolve(self, path: PathLike) -> Path:
        p = Path(path)
        if not p.is_absolute() and self.base_dir is not None and \
                (self.base_dir / p).exists():
            return self.base_dir / p
        return p

    def machine(self, definition: Union[PathLike, Mapping[str, Any], Machine],
                name: Optional[str] = None, express: bool = False) -> Machine:
        """Load (once per runner) a definition: a file (.json, .yaml,
        .yml), a dict, or a Machine as it is. The name defaults to the
        file's stem."""
        if isinstance(definition, Machine):
            return definition
        if isinstance(definition, Mapping):
            key = (json.dumps(definition, sort_keys=True), name or "", express)
            if key not in self._machines:
                self._machines[key] = Machine.from_json(
                    dict(definition), name=name, express=express)
            return self._machines[key]
        path = self._resolve(definition)
        stem = path.name.split(".")[0]
        key = (str(path.resolve()), name or stem, express)
        if key not in self._machines:
            self._machines[key] = Machine.from_file(path, name=name or stem,
                                                    express=express)
        return self._machines[key]

    def _mock_config(self, mock_config: Union[PathLike, Mapping[str, Any],
                                              None]) -> Dict[str, Any]:
        if mock_config is None:
            return {"StateMachines": {}, "MockedResponses": {}}
        if isinstance(mock_config, Mapping):
            return copy.deepcopy(dict(mock_config))
        with open(self._resolve(mock_config), encoding="utf-8") as f:
            value: Dict[str, Any] = json.load(f)
            return value

    def engine(self, **options: Any) -> Engine:
        """A fresh engine on its own virtual clock, closed with the
        runner."""
        options.setdefault("virtual_time", True)
        options.setdefault("seed", self.seed)
        if self.start_ms and "clock" not in options:
            from .clock import Clock
            options["clock"] = Clock(self.start_ms)
        e = Engine(**options)
        self._engines.append(e)
        return e

    def run(self, definition: Union[PathLike, Mapping[str, Any], Machine],
            input: Any = None, *,
            mocks: Optional[Mapping[str, MockSpec]] = None,
            mock_config: Union[PathLike, Mapping[str, Any], None] = None,
            test_case: Optional[str] = None,
            handlers: Optional[Mapping[str, Callable[..., Any]]] = None,
            plugins: Sequence[Union[PathLike, Tuple[PathLike, Any]]] = (),
            name: Optional[str] = None, express: bool = False,
            execution_name: Optional[str] = None,
            timeout: Optional[float] = None) -> Result:
        """Run a definition to its end and return its Result.

        mocks: state name -> MockSpec, inline. mock_config + test_case: a
        Step Functions Local MockConfigFile (path or dict) and the test case
        to run; inline mocks add to (and override) that case's states.
        handlers: resource ARN -> handler for Task states not mocked.
        plugins: handler plugin files (or (file, config) pairs) to load.
        name: the machine's name (default: the file's stem, or the only
        machine of the MockConfigFile)."""
        cfg = self._mock_config(mock_config)
        machines = cfg.get("StateMachines", {})
        if name is None and test_case is not None and len(machines) == 1 \
                and not isinstance(definition, Machine):
            only = next(iter(machines))
            stem = None if isinstance(definition, Mapping) else \
                Path(definition).name.split(".")[0]
            if stem not in machines:
                name = only
        machine = self.machine(definition, name=name, express=express)
        states = dict(_walk_states(machine.definition.get("States", {})))
        tasks = {n: st for n, st in states.items() if st.get("Type") == "Task"}
        engine = self.engine()
        by_resource: Dict[str, Dict[str, Callable[..., Any]]] = {}
        case_name = test_case
        if mocks:
            unknown = [n for n in mocks if n not in tasks]
            if unknown:
                raise ValueError(
                    f"mocks name states that are not Task states of "
                    f"{machine.name!r}: {', '.join(unknown)}; its Task states "
                    f"are: {', '.join(tasks) or '(none)'}")
            mcase: Dict[str, Any] = {}
            if test_case is not None:
                try:
                    mcase = dict(machines[machine.name]["TestCases"]
                                 [test_case])
                except KeyError:
                    raise ValueError(
                        f"the mock configuration has no test case "
                        f"{test_case!r} for the machine {machine.name!r}"
                    ) from None
            responses = cfg.setdefault("MockedResponses", {})
            for state, spec in mocks.items():
                entries = _responses(spec)
                if entries is None:
                    mcase.pop(state, None)
                    res = str(tasks[state].get("Resource"))
                    by_resource.setdefault(res, {})[state] = spec
                    continue
                key = f"workflow.testing:{state}"
                responses[key] = entries
                mcase[state] = key
            case_name = test_case or "workflow.testing"
            machines = cfg.setdefault("StateMachines", machines)
            machines.setdefault(machine.name, {}).setdefault(
                "TestCases", {})[case_name] = mcase
        if case_name is not None:
            engine.set_mock_config(cfg)
        handlers = dict(handlers or {})
        for res, per_state in by_resource.items():
            engine.register_handler(res, _dispatcher(per_state,
                                                     handlers.pop(res, None)))
        for res, fn in handlers.items():
            engine.register_handler(res, fn)
        for plugin in plugins:
            path, conf = plugin if isinstance(plugin, tuple) else (plugin,
                                                                   None)
            p = self._resolve(path).resolve()
            engine.add_plugin_dir(p.parent)
            engine.load_plugin(p, conf)
        x = engine.start(machine, input, name=execution_name,
                         test_case=case_name)
        ended = x.wait(self.timeout if timeout is None else timeout)
        if not ended:
            x.stop("workflow.testing.Timeout",
                   "the run's timeout passed before the execution ended")
            x.wait()
        result = Result(x, machine, timed_out=not ended)
        engine.close()
        self._engines.remove(engine)
        return result

    def close(self) -> None:
        for e in self._engines:
            e.close()
        self._engines.clear()
        for m in self._machines.values():
            m.close()
        self._machines.clear()

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dispatcher(per_state: Dict[str, Callable[..., Any]],
                fallback: Optional[Callable[..., Any]]) -> Callable[..., Any]:
    from .engine import _takes_context

    takes = {n: _takes_context(fn) for n, fn in per_state.items()}
    fb_takes = fallback is not None and _takes_context(fallback)

    def dispatch(value: Any, ctx: Context) -> Any:
        fn = per_state.get(ctx.state_name)
        if fn is not None:
            return fn(value, ctx) if takes[ctx.state_name] else fn(value)
        if fallback is not None:
            return fallback(value, ctx) if fb_takes else fallback(value)
        raise TaskFailed("workflow.testing.Unmocked",
                         f"state {ctx.state_name!r} ({ctx.resource}) has no "
                         "mock and no handler")

    return dispatch
