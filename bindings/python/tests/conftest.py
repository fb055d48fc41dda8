"""Shared fixtures of the package's tests (run by ctest, which sets
WORKFLOW_LIBRARY to the built library and WORKFLOW_PLUGIN_DIR to the built
plugins)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict

import pytest

REPO = Path(__file__).resolve().parents[3]
WORKFLOWS = REPO / "examples" / "workflows"


@pytest.fixture
def seed_input() -> Dict[str, Any]:
    value: Dict[str, Any] = json.loads(
        (WORKFLOWS / "seed-input.json").read_text())
    return value


@pytest.fixture
def plugin_dir() -> Path:
    d = os.environ.get("WORKFLOW_PLUGIN_DIR")
    if not d or not (Path(d) / "hello.so").exists():
        pytest.skip("WORKFLOW_PLUGIN_DIR with hello.so is not set")
    return Path(d)
