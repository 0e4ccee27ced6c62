"""A fake engine for the fast tier: the real facecore Engine (real decoding, face mapping,
batching and timings) with a detector and an embedder that need no TensorFlow.

Photos for it are drawn with ``painted``: a grey background with coloured squares. Each square
is a face; its colour is who it is. Squares of nearly the same colour are the same person
(distance well inside facenet's threshold), clearly different colours are different people.
"""

from __future__ import annotations

import io
import zlib

import numpy as np
from PIL import Image as PILImage
from scipy import ndimage

from facecore.embedders.base import l2_normalize
from facecore.embedders.dlib_resnet import THRESHOLD as DLIB_THRESHOLD
from facecore.embedders.facenet import THRESHOLD as FACENET_THRESHOLD
from facecore.engine import Engine
from facecore.settings import EngineSettings
from facecore.types import Face

BACKGROUND = 128
DIMENSION = 128


class FakeDetector:
    """Finds the coloured squares (connected areas that differ from the grey background)."""

    name = "fake"

    def detect(self, images: list[np.ndarray], min_face_size: int) -> list[np.ndarray]:
        return [self._rows(image) for image in images]

    @staticmethod
    def _rows(image: np.ndarray) -> np.ndarray:
        mask = np.abs(image.astype(np.int16) - BACKGROUND).max(axis=2) > 40
        labels, _ = ndimage.label(mask)
        rows = []
        for found in ndimage.find_objects(labels):
            ys, xs = found
            x1, y1, x2, y2 = xs.start, ys.start, xs.stop, ys.stop
            w, h = x2 - x1, y2 - y1
            marks = [(0.3, 0.35), (0.7, 0.35), (0.5, 0.55), (0.35, 0.75), (0.65, 0.75)]
            points = [v for fx, fy in marks for v in (x1 + fx * w, y1 + fy * h)]
            rows.append([x1, y1, x2, y2, 0.999, *points])
        return np.asarray(rows, dtype=np.float64).reshape(-1, 15)


class FakeEmbedder:
    """The identity is the square's colour in steps of 64; the exact shade moves the vector a
    little (same person, another photo: distance about 0.2, facenet's threshold is 1.05)."""

    name = "facenet"
    dimension = DIMENSION
    threshold = FACENET_THRESHOLD
    salt = ""
    """Another model's vectors for the same face are unrelated (another vector space)."""
    shade_weight = 0.15

    def prepare(self, image: np.ndarray, face: Face) -> np.ndarray:
        b = face.box
        patch = image[b.y_min : b.y_max, b.x_min : b.x_max]
        return np.asarray(PILImage.fromarray(patch).resize((8, 8)), dtype=np.uint8)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        return l2_normalize(np.stack([self._vector(crop) for crop in np.asarray(crops)]))

    def _vector(self, crop: np.ndarray) -> np.ndarray:
        colour = crop.reshape(-1, 3).mean(axis=0)
        identity = tuple(int(round(c / 64)) for c in colour)
        seed = zlib.crc32((self.salt + repr(identity)).encode())
        base = np.random.default_rng(seed).normal(size=DIMENSION)
        base /= np.linalg.norm(base)
        shade = np.random.default_rng(int(colour.sum() * 10)).normal(size=DIMENSION)
        return base + self.shade_weight * shade / np.linalg.norm(shade)


class FakeDlibEmbedder(FakeEmbedder):
    """A second model for model migrations: the same people, other vectors, dlib's threshold."""

    name = "dlib"
    threshold = DLIB_THRESHOLD
    salt = "dlib"
    shade_weight = 0.05


def fake_engine(settings: EngineSettings | None = None) -> Engine:
    engine = Engine(settings or EngineSettings(), detector=FakeDetector())
    for embedder in (FakeEmbedder(), FakeDlibEmbedder()):
        engine._embedders[embedder.name] = embedder
    return engine


TEXTURE = 40
"""A +-40 checkerboard on every square: sharp and contrasted for facecore.quality."""


def painted(
    squares: list[tuple[int, int, int, tuple[int, int, int]]], size: tuple[int, int] = (320, 240)
) -> bytes:
    """A PNG: grey background, one textured square ``(x, y, side, (r, g, b))`` per face."""
    pixels = np.full((size[1], size[0], 3), BACKGROUND, np.uint8)
    for x, y, side, colour in squares:
        yy, xx = np.mgrid[0:side, 0:side]
        checker = np.where(((yy // 4) + (xx // 4)) % 2 == 0, TEXTURE, -TEXTURE)[..., None]
        pixels[y : y + side, x : x + side] = np.clip(np.asarray(colour, np.int16) + checker, 0, 255)
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, "PNG")  # lossless: colours stay exact
    return out.getvalue()


RED = (192, 0, 0)
BLUE = (0, 0, 192)
GREEN = (0, 192, 0)
"""People: channels at multiples of 64, so shades within +-24 keep the identity."""


def person(colour: tuple[int, int, int], shade: int = 0) -> tuple[int, int, int]:
    """Another photo of the same person: the colour shifted by ``shade`` (|shade| <= 24) levels."""
    return tuple(max(0, min(255, c + shade)) for c in colour)  # type: ignore[return-value]
