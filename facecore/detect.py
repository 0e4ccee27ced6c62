"""Detector backend choice and detector rows -> ``Face`` objects in original-image pixels."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from facecore.decode import DecodedImage
from facecore.detectors.base import Detector
from facecore.settings import DETECTOR_CHOICES, default_models_dir
from facecore.types import LANDMARK_NAMES, Box, Face

log = logging.getLogger(__name__)


def load_detector(
    name: str = "fast", runtime: str = "tensorflow", models_dir: Path | str | None = None
) -> Detector:
    """Build the detector ``name`` (EngineSettings.detector, from ``FACECORE_DETECTOR``).

    ``fast`` (the default) runs on ``runtime`` (``facecore.runtime``): on ONNX Runtime it is
    ``facecore.detectors.onnx_mtcnn.OnnxMTCNN``, on TensorFlow
    ``facecore.detectors.fast_mtcnn.FastMTCNN``; when that module is missing or fails to import
    we fall back to the ``mtcnn`` package (same weights, TensorFlow). ``mtcnn`` is that package.
    """
    choice = name.strip().lower()
    if choice not in DETECTOR_CHOICES:
        raise ValueError(f"detector {choice!r}; expected one of {', '.join(DETECTOR_CHOICES)}.")
    if choice == "fast" and runtime != "tensorflow":
        from facecore.onnx_models import use_onnx

        found = use_onnx(runtime, "mtcnn", models_dir if models_dir is not None else default_models_dir())
        if found:
            from facecore.detectors.onnx_mtcnn import OnnxMTCNN

            executor, paths = found
            return OnnxMTCNN(paths, executor)
    if choice == "fast":
        try:
            from facecore.detectors.fast_mtcnn import FastMTCNN
        except ImportError as exc:
            log.warning("Fast MTCNN unavailable (%s); using the mtcnn package.", exc)
        else:
            return FastMTCNN()
    from facecore.detectors.mtcnn_package import MTCNNPackageDetector

    return MTCNNPackageDetector()


def faces_from_rows(
    rows: np.ndarray,
    image: DecodedImage,
    det_prob_threshold: float,
    min_face_size: int = 0,
    limit: int = 0,
) -> list[Face]:
    """Detector rows (detection-image pixels) -> faces in original pixels, largest first.

    Faces below ``det_prob_threshold`` are dropped, and so are faces whose box's longer side is
    under ``min_face_size`` detection pixels: MTCNN's own ``min_face_size`` only picks the first
    pyramid scale and does not guarantee that. ``limit`` > 0 keeps the largest ``limit``.
    """
    sx, sy = image.detection_scale
    faces = []
    for row in np.asarray(rows, dtype=np.float64):
        probability = float(row[4])
        if probability < det_prob_threshold:
            continue
        if max(row[2] - row[0], row[3] - row[1]) < min_face_size:
            continue
        box = Box(
            x_min=max(0, math.floor(row[0] * sx)),
            y_min=max(0, math.floor(row[1] * sy)),
            x_max=min(image.width, math.ceil(row[2] * sx)),
            y_max=min(image.height, math.ceil(row[3] * sy)),
        )
        if box.area <= 0:
            continue
        landmarks = {
            name: (float(row[5 + 2 * k] * sx), float(row[6 + 2 * k] * sy))
            for k, name in enumerate(LANDMARK_NAMES)
        }
        faces.append(Face(box=box, probability=probability, landmarks=landmarks))
    faces.sort(key=lambda f: (-f.box.area, -f.probability))
    return faces[:limit] if limit > 0 else faces


def face_in_pixels(face: Face, image: DecodedImage) -> Face:
    """The same face with coordinates in ``image.pixels`` (the working image), for embedders."""
    sx, sy = image.pixels_scale
    box = Box(
        x_min=max(0, math.floor(face.box.x_min / sx)),
        y_min=max(0, math.floor(face.box.y_min / sy)),
        x_max=min(image.pixels.shape[1], math.ceil(face.box.x_max / sx)),
        y_max=min(image.pixels.shape[0], math.ceil(face.box.y_max / sy)),
    )
    landmarks = {k: (x / sx, y / sy) for k, (x, y) in face.landmarks.items()}
    return Face(box=box, probability=face.probability, landmarks=landmarks)
