"""The pytest plugin: installed with the package, pytest loads it through
the ``pytest11`` entry point (or ``-p workflow.pytest_plugin``).

Fixtures:

``workflow_runner``
    a workflow.testing.Runner whose relative file names resolve against the
    test file's directory first; every run gets a fresh engine on a virtual
    clock and returns a Result with assertion helpers.
``workflow_engine``
    a fresh workflow.Engine on a virtual clock, closed after the test.

The library itself is loaded only when a fixture is used, so the plugin
costs nothing in test sessions that do not use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List

import pytest

from .engine import Engine
from .testing import Runner


def pytest_report_header(config: pytest.Config) -> List[str]:
    from . import _native
    try:
        lib = _native.lib()
    except OSError as ex:
        first = str(ex).splitlines()[0]
        return [f"libworkflow: not loaded ({first})"]
    return [f"libworkflow: {lib.wf_version_string().decode()} "
            f"({lib._name})"]


@pytest.fixture
def workflow_runner(request: pytest.FixtureRequest) -> Iterator[Runner]:
    """A Runner for state machine tests (see workflow.testing)."""
    runner = Runner(base_dir=Path(str(request.node.path)).parent)
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture
def workflow_engine() -> Iterator[Engine]:
    """A fresh Engine on a virtual clock, closed after the test."""
    with Engine(virtual_time=True) as engine:
        yield engine
