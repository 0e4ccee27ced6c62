"""Engine settings, read from the environment (all documented in docs/configuration.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def default_models_dir() -> Path:
    return Path(
        os.environ.get("FACECORE_MODELS_DIR", Path(__file__).resolve().parent.parent / "var" / "models")
    )


@dataclass(frozen=True)
class EngineSettings:
    max_image_bytes: int = field(default_factory=lambda: _env_int("FACECORE_MAX_IMAGE_BYTES", 10_000_000))
    """Encoded size limit; larger input is refused with ``image_too_large``."""
    max_image_pixels: int = field(default_factory=lambda: _env_int("FACECORE_MAX_IMAGE_PIXELS", 60_000_000))
    """Decoded pixel limit (width*height); larger or bomb input is refused with ``too_many_pixels``."""
    detection_max_side: int = field(default_factory=lambda: _env_int("FACECORE_DETECTION_MAX_SIDE", 1024))
    """Images are downscaled so their longer side is at most this before detection."""
    det_prob_threshold: float = field(default_factory=lambda: _env_float("FACECORE_DET_PROB_THRESHOLD", 0.8))
    min_face_size: int = field(default_factory=lambda: _env_int("FACECORE_MIN_FACE_SIZE", 20))
    """Smallest face side, in detection-image pixels."""
    default_model: str = field(default_factory=lambda: os.environ.get("FACECORE_DEFAULT_MODEL", "facenet"))
    models_dir: Path = field(default_factory=default_models_dir)
    """Where fetched weights live (``python -m facecore models fetch``)."""
