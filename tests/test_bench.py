"""The benchmarks (``make bench-*``) are run by hand, rarely: at least they must import."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_every_benchmark_module_imports() -> None:
    modules = sorted(p.stem for p in (REPO / "bench").glob("*.py") if p.stem != "__init__")
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module('bench.' + m)"
    # A process of its own: some benchmarks import TensorFlow, which the fast tier must not load.
    result = subprocess.run(
        [sys.executable, "-c", code, *modules], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
