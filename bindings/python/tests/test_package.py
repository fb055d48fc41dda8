"""The package itself: its version, and how it finds the library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import workflow

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_version_is_the_library_version() -> None:
    assert workflow.__version__ == workflow.library_version()
    assert workflow.package_version == workflow.__version__
    project = os.environ.get("WF_PROJECT_VERSION")
    if project:
        assert workflow.package_version == project


def load_in_subprocess(env_library: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "WORKFLOW_LIBRARY"}
    env["PYTHONPATH"] = SRC
    env["LD_LIBRARY_PATH"] = ""
    if env_library is not None:
        env["WORKFLOW_LIBRARY"] = env_library
    out = subprocess.run(
        [sys.executable, "-c", "import workflow; workflow.Engine()"],
        capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode != 0
    return out.stderr


def test_import_does_not_need_the_library() -> None:
    env = dict(os.environ, PYTHONPATH=SRC,
               WORKFLOW_LIBRARY="/nonexistent/libworkflow.so.0")
    out = subprocess.run([sys.executable, "-c",
                          "import workflow, workflow.testing, "
                          "workflow.pytest_plugin"],
                         env=env, capture_output=True, timeout=30)
    assert out.returncode == 0


def test_missing_library_error_names_every_place() -> None:
    if Path("/usr/lib/x86_64-linux-gnu/libworkflow.so.0").exists() or \
            Path("/usr/local/lib/libworkflow.so.0").exists():
        pytest.skip("a system-wide libworkflow is installed")
    err = load_in_subprocess(None)
    assert "LibraryNotFoundError" in err
    assert "WORKFLOW_LIBRARY: not set" in err
    assert "install prefix" in err and "system libworkflow.so.0" in err


def test_bad_workflow_library_is_not_silently_replaced() -> None:
    err = load_in_subprocess("/nonexistent/libworkflow.so.0")
    assert "WORKFLOW_LIBRARY /nonexistent/libworkflow.so.0" in err
