"""Facts about each embedding model that the database side needs, without loading any weights."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from facecore.embedders import embedder_class
from facecore.embedders.base import similarity_from_distance


@dataclass(frozen=True)
class ModelInfo:
    name: str
    dimension: int
    threshold: float
    """Calibrated L2 distance between unit vectors: same person when ``distance <= threshold``."""

    def similarity(self, distance: float) -> float:
        return similarity_from_distance(distance, self.threshold)

    def same_person(self, distance: float) -> bool:
        return distance <= self.threshold


@cache
def model_info(name: str) -> ModelInfo:
    """Raises KeyError for an unknown model name."""
    cls = embedder_class(name)
    return ModelInfo(name=cls.name, dimension=int(cls.dimension), threshold=float(cls.threshold))
