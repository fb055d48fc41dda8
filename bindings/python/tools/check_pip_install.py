"""Prove the package installs with pip offline (no downloads, Debian's
setuptools) and that an installed copy works: the import, the library
found through WORKFLOW_LIBRARY, and the pytest plugin loaded through its
pytest11 entry point. Run by ctest as python-pip-install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

TEST = """
def test_plugin_loaded_by_entry_point(workflow_runner):
    r = workflow_runner.run({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": 1, "End": True}}})
    r.assert_succeeded(1).assert_path("P")
"""


def run(*args: str, **kw: object) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, check=True, **kw)  # type: ignore[call-overload]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="wf-pip-") as tmp:
        src = Path(tmp) / "src"
        # pip builds in the source tree: give it a copy, not the checkout.
        shutil.copytree(HERE, src, ignore=shutil.ignore_patterns(
            "build", "*.egg-info", "__pycache__", ".mypy_cache"))
        target = Path(tmp) / "site"
        run(sys.executable, "-m", "pip", "install", "--quiet",
            "--no-build-isolation", "--no-index", "--no-deps",
            "--target", str(target), str(src))
        env = dict(os.environ, PYTHONPATH=str(target),
                   PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        run(sys.executable, "-c",
            "import workflow, sys; from importlib.metadata import "
            "version, entry_points\n"
            f"assert workflow.__file__.startswith({str(target)!r})\n"
            "assert version('libworkflow') == workflow.package_version\n"
            "assert workflow.__version__ == workflow.package_version\n"
            "eps = [e.value for e in entry_points(group='pytest11')]\n"
            "assert 'workflow.pytest_plugin' in eps, eps\n"
            "print('installed', workflow.package_version, "
            "workflow.library_path())", env=env, cwd=tmp)
        tests = Path(tmp) / "t"
        tests.mkdir()
        (tests / "test_installed.py").write_text(TEST)
        run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            str(tests), env=env, cwd=tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
