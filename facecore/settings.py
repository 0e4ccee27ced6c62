"""Engine settings. ``EngineSettings.from_env()`` reads them from the environment, strictly (a
malformed or out-of-range value is an error naming the variable); every variable is in
docs/configuration.md. The service reads the same variables through this class
(config/settings.py), so each one is parsed in one place only."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from environs import Env
from marshmallow.validate import OneOf, Range

from facecore.embedders import MODEL_NAMES
from facecore.runtime import RUNTIME_CHOICES

DETECTOR_CHOICES = ("fast", "mtcnn")


def _repo_var() -> Path:
    return Path(__file__).resolve().parent.parent / "var"


def default_models_dir() -> Path:
    return Env().path("FACECORE_MODELS_DIR", _repo_var() / "models")


@dataclass(frozen=True)
class EngineSettings:
    max_image_bytes: int = 10_000_000
    """Encoded size limit; larger input is refused with ``image_too_large``."""
    max_image_pixels: int = 60_000_000
    """Decoded pixel limit (width*height); larger or bomb input is refused with ``too_many_pixels``."""
    detection_max_side: int = 1024
    """Images are downscaled so their longer side is at most this before detection."""
    det_prob_threshold: float = 0.8
    min_face_size: int = 20
    """Smallest face side, in detection-image pixels."""
    default_model: str = "facenet"
    detector: str = "fast"
    """``fast`` (facecore.detectors.fast_mtcnn) or ``mtcnn`` (the PyPI package); same weights."""
    runtime: str = "auto"
    """``auto``, ``onnx`` or ``tensorflow``: what runs MTCNN and FaceNet (``facecore.runtime``)."""
    models_dir: Path = field(default_factory=lambda: _repo_var() / "models")
    """Where fetched weights live (``python -m facecore models fetch``)."""

    @classmethod
    def from_env(cls) -> EngineSettings:
        """The settings from the environment; ``environs.EnvError`` names a bad variable."""
        env = Env()
        d = cls()
        positive = Range(min=1)
        return cls(
            max_image_bytes=env.int("FACECORE_MAX_IMAGE_BYTES", d.max_image_bytes, validate=positive),
            max_image_pixels=env.int("FACECORE_MAX_IMAGE_PIXELS", d.max_image_pixels, validate=positive),
            detection_max_side=env.int(
                "FACECORE_DETECTION_MAX_SIDE", d.detection_max_side, validate=positive
            ),
            det_prob_threshold=env.float(
                "FACECORE_DET_PROB_THRESHOLD", d.det_prob_threshold, validate=Range(min=0, max=1)
            ),
            min_face_size=env.int("FACECORE_MIN_FACE_SIZE", d.min_face_size, validate=positive),
            default_model=env.str("FACECORE_DEFAULT_MODEL", d.default_model, validate=OneOf(MODEL_NAMES)),
            detector=env.str("FACECORE_DETECTOR", d.detector, validate=OneOf(DETECTOR_CHOICES)),
            runtime=env.str("FACECORE_RUNTIME", d.runtime, validate=OneOf(RUNTIME_CHOICES)),
            models_dir=default_models_dir(),
        )
