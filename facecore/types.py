"""Result types shared by the engine, the worker, the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True)
class Box:
    """A face box in original-image pixels (after EXIF orientation), x_max/y_max exclusive."""

    x_min: int
    y_min: int
    x_max: int
    y_max: int

    @property
    def width(self) -> int:
        return self.x_max - self.x_min

    @property
    def height(self) -> int:
        return self.y_max - self.y_min

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    def to_dict(self) -> dict[str, int]:
        return {"x_min": self.x_min, "y_min": self.y_min, "x_max": self.x_max, "y_max": self.y_max}


Landmarks = dict[str, tuple[float, float]]
"""Five points keyed by LANDMARK_NAMES, (x, y) in original-image pixels."""


@dataclass
class Face:
    """One detected face; all coordinates in original-image pixels after EXIF orientation.

    Landmark names follow MTCNN: ``left_eye``/``mouth_left`` are on the image's left side,
    i.e. the person's right eye / mouth corner (for a face looking at the camera).
    """

    box: Box
    probability: float
    landmarks: Landmarks
    embedding: np.ndarray | None = field(default=None, repr=False)
    """L2-normalized float32 vector, set when a model embedded the face."""
    model: str | None = None
    """Name of the embedding model, e.g. ``facenet``."""

    def to_dict(self, include_embedding: bool = False) -> dict:
        """The engine's JSON of a face (the CLI prints it; the API renders stored faces itself)."""
        out: dict = {
            "box": self.box.to_dict(),
            "probability": round(float(self.probability), 6),
            "landmarks": {
                k: [round(float(v[0]), 2), round(float(v[1]), 2)] for k, v in self.landmarks.items()
            },
        }
        if include_embedding and self.embedding is not None:
            out["embedding"] = [float(x) for x in self.embedding]
            out["model"] = self.model
        return out


@dataclass
class ImageResult:
    """What the engine found in one image."""

    width: int
    height: int
    faces: list[Face]
    timings_ms: dict[str, float] = field(default_factory=dict)
