"""Shared fixtures for engine tests: real photos, one warm Engine per session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from facecore.engine import Engine
from facecore.settings import EngineSettings

from .images import encode

REPO = Path(__file__).resolve().parents[2]

ENGINE_DEFAULTS = EngineSettings(
    max_image_bytes=10_000_000,
    max_image_pixels=60_000_000,
    detection_max_side=1024,
    det_prob_threshold=0.9,
    min_face_size=20,
)


def shared_dir() -> Path:
    return Path(os.environ.get("FACECORE_SHARED_DIR", REPO.parent / "shared"))


def pairs_dir() -> Path:
    return shared_dir() / "datasets" / "deepface-pairs"


@pytest.fixture(scope="session")
def deepface_pairs() -> Path:
    """The deepface-pairs photo folder; tests using it skip when /work/shared is absent."""
    path = pairs_dir()
    if not (path / "couple.jpg").is_file():
        pytest.skip(f"shared photos not found at {path} (set FACECORE_SHARED_DIR)")
    return path


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """skimage's astronaut photo (512x512 RGB, one face), shipped inside scikit-image."""
    data = pytest.importorskip("skimage.data")
    return data.astronaut()


@pytest.fixture(scope="session")
def astronaut_jpeg(astronaut: np.ndarray) -> bytes:
    return encode(astronaut, "JPEG", quality=95)


@pytest.fixture(scope="session")
def engine() -> Engine:
    """One engine (detector loaded once) for the whole session, with the documented defaults
    for decoding and detection (whatever the environment says); models from the environment."""
    return Engine(ENGINE_DEFAULTS)
