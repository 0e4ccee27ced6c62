"""Session-wide test helpers shared by all test packages.

Django is configured by pytest-django (``DJANGO_SETTINGS_MODULE = config.settings`` in
pyproject.toml); with no DATABASE_URL the test database lives in the embedded pgserver
PostgreSQL (with pgvector) under FACECORE_DATA_DIR.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """Read-only shared data (photos); FACECORE_SHARED_DIR, default ``<repo>/../shared``."""
    return Path(os.environ.get("FACECORE_SHARED_DIR", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_photos() -> Path:
    """The deepface-pairs folder; a test using it is skipped when the shared data is absent."""
    path = shared_dir() / "datasets" / "deepface-pairs"
    if not (path / "couple.jpg").is_file():
        pytest.skip(f"shared photos not found at {path} (set FACECORE_SHARED_DIR)")
    return path
