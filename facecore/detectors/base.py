"""The interface of a face detector backend (MTCNN from the package, or the faster one)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

DETECTION_COLUMNS = 15
"""Each detection row: x1, y1, x2, y2, probability, then (x, y) for left_eye, right_eye,
nose, mouth_left, mouth_right, all in the input array's pixels."""


class Detector(Protocol):
    name: str

    def detect(self, images: list[np.ndarray], min_face_size: int) -> list[np.ndarray]:
        """RGB uint8 arrays (any sizes) -> one (K, 15) float array per image, unfiltered by
        the caller's threshold (the engine applies ``det_prob_threshold``)."""
        ...
