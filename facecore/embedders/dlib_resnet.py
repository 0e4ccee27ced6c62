"""dlib's ResNet face descriptor (128-d), with its 5-point landmark alignment.

Weights ship in the ``face_recognition_models`` package, so there is nothing to fetch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facecore.embedders.base import l2_normalize
from facecore.errors import ModelUnavailableError
from facecore.types import Face

CHIP_SIZE = 150
CHIP_PADDING = 0.25
"""dlib's defaults for its descriptor (what ``compute_face_descriptor(img, shape)`` uses)."""
THRESHOLD = 0.39
"""Euclidean distance on unit vectors; calibrated with bench/calibrate.py (docs/models.md)."""


class DlibResNetEmbedder:
    """dlib_face_recognition_resnet_model_v1 on 150x150 chips aligned with the 5-point predictor."""

    name = "dlib"
    dimension = 128
    threshold = THRESHOLD

    def __init__(self, models_dir: Path | str | None = None) -> None:
        try:
            import dlib
            import face_recognition_models as frm
        except ImportError as exc:
            raise ModelUnavailableError(
                f"dlib model needs dlib-bin and face_recognition_models: {exc}"
            ) from exc
        self._dlib = dlib
        self._shape_predictor = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self._descriptor = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def prepare(self, image: np.ndarray, face: Face) -> np.ndarray:
        """Fit the 5 landmarks inside the detector box, then cut dlib's aligned 150px chip."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        box = face.box
        rect = self._dlib.rectangle(int(box.x_min), int(box.y_min), int(box.x_max) - 1, int(box.y_max) - 1)
        shape = self._shape_predictor(image, rect)
        chip = self._dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        return np.asarray(chip, dtype=np.uint8)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        crops = np.asarray(crops)
        if len(crops) == 0:
            return np.zeros((0, self.dimension), np.float32)
        chips = [np.ascontiguousarray(c, dtype=np.uint8) for c in crops]
        descriptors = self._descriptor.compute_face_descriptor(chips)
        return l2_normalize(np.array([np.asarray(d) for d in descriptors], dtype=np.float32))
