"""Virtualenvs of the third-party clients the compatibility layers are tested with (CompreFace's
SDK, DeepStack's clients), each installed from its requirements file exactly as its users
install it, apart from facecore's own environment (their pins may clash with ours). The
Makefile makes them (`make compreface-sdk`, `make deepstack-clients`); a test makes one when
it is missing."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def client_python(venv: Path, requirements: Path) -> Path:
    """The Python of ``venv``, created and installed from ``requirements`` unless it is complete
    (its ``.installed`` stamp, as the Makefile writes it)."""
    python = venv / "bin" / "python"
    if not (venv / ".installed").is_file():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
        pip = [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)]
        subprocess.run(pip, check=True, timeout=600)
        (venv / ".installed").touch()
    return python


def run_client(python: Path, script: Path, spec: dict) -> dict:
    """Run ``script`` with the client's ``python`` (isolated, outside the repository, so its
    imports are the client's) on the JSON ``spec``; the JSON object it prints."""
    done = subprocess.run(
        [str(python), "-I", str(script), json.dumps(spec)],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
