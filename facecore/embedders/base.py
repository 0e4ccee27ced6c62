"""The one interface every embedding model implements."""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from facecore.types import Face


class Embedder(Protocol):
    name: str
    """Registry key, e.g. ``facenet``; stored with every embedding."""
    dimension: int
    threshold: float
    """Calibrated euclidean distance between L2-normalized embeddings: same person when <= threshold."""

    def prepare(self, image: np.ndarray, face: Face) -> np.ndarray:
        """Cut (and align) one face out of an RGB uint8 image, in the model's input size.

        ``face`` coordinates are in ``image``'s own pixels. The crop is what ``embed`` takes.
        """
        ...

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 crops from ``prepare`` -> (N, dimension) float32, L2-normalized rows."""
        ...


SIMILARITY_SLOPE = 10.0
"""Steepness of the distance-to-similarity curve, per threshold's worth of L2 distance."""


def similarity_from_distance(distance: float, threshold: float) -> float:
    """Map an L2 distance to [0, 1], exactly 0.5 at the model's threshold.

    A logistic curve in ``distance / threshold``, so one cut-off (0.5) means "same person" for
    every model, and models with small thresholds (dlib, 0.39) spread as much as FaceNet (1.05).
    """
    return 1.0 / (1.0 + math.exp(SIMILARITY_SLOPE * (distance - threshold) / threshold))


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
