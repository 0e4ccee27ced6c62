"""The engine facade: decode, detect, embed, compare. Models load once per process and stay warm."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecore.decode import DecodedImage, decode_image
from facecore.detect import face_in_pixels, faces_from_rows, load_detector
from facecore.detectors.base import Detector
from facecore.embedders.base import Embedder, similarity_from_distance
from facecore.errors import NoFaceError
from facecore.settings import EngineSettings
from facecore.types import ImageResult

ImageInput = bytes | DecodedImage


@dataclass(frozen=True)
class Comparison:
    distance: float
    """Euclidean distance between the two L2-normalized embeddings (0..2)."""
    similarity: float
    """0..1, exactly 0.5 at ``threshold`` (see ``similarity_from_distance``)."""
    verified: bool
    """Same person: ``distance <= threshold``."""
    threshold: float
    model: str

    def to_dict(self) -> dict:
        return {
            "distance": round(self.distance, 6),
            "similarity": round(self.similarity, 6),
            "verified": self.verified,
            "threshold": self.threshold,
            "model": self.model,
        }


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 2)


class Engine:
    """Thread-safe; share one per process (``get_engine``)."""

    def __init__(self, settings: EngineSettings | None = None, detector: Detector | None = None) -> None:
        self.settings = settings or EngineSettings.from_env()
        self._detector = detector
        self._embedders: dict[str, Embedder] = {}
        self._lock = threading.Lock()

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    self._detector = load_detector(
                        self.settings.detector, self.settings.runtime, self.settings.models_dir
                    )
        return self._detector

    def decode(self, data: bytes) -> DecodedImage:
        """Bytes -> ``DecodedImage``; raises ``ImageError`` with a stable code for bad input."""
        return decode_image(data, self.settings)

    def embedder(self, name: str | None = None) -> Embedder:
        """The named (default: ``settings.default_model``) embedder, loaded once and cached."""
        name = name or self.settings.default_model
        embedder = self._embedders.get(name)
        if embedder is None:
            with self._lock:
                embedder = self._embedders.get(name)
                if embedder is None:
                    embedder = load_embedder(name, self.settings.runtime, self.settings.models_dir)
                    self._embedders[name] = embedder
        return embedder

    def _decode_all(self, images: Sequence[ImageInput]) -> tuple[list[DecodedImage], list[float]]:
        decoded, timings = [], []
        for item in images:
            start = time.perf_counter()
            decoded.append(item if isinstance(item, DecodedImage) else self.decode(item))
            timings.append(_ms(start) if not isinstance(item, DecodedImage) else 0.0)
        return decoded, timings

    def _detect_decoded(
        self,
        decoded: list[DecodedImage],
        decode_ms: list[float],
        det_prob_threshold: float | None,
        min_face_size: int | None,
        limit: int,
    ) -> list[ImageResult]:
        threshold = self.settings.det_prob_threshold if det_prob_threshold is None else det_prob_threshold
        min_size = self.settings.min_face_size if min_face_size is None else min_face_size
        start = time.perf_counter()
        rows = self.detector.detect([d.detection for d in decoded], min_size) if decoded else []
        detect_share = _ms(start) / max(1, len(decoded))
        return [
            ImageResult(
                width=image.width,
                height=image.height,
                faces=faces_from_rows(image_rows, image, threshold, min_size, limit),
                timings_ms={"decode": decode_ms[i], "detect": round(detect_share, 2)},
            )
            for i, (image, image_rows) in enumerate(zip(decoded, rows, strict=True))
        ]

    def detect(
        self,
        images: Sequence[ImageInput],
        *,
        det_prob_threshold: float | None = None,
        min_face_size: int | None = None,
        limit: int = 0,
    ) -> list[ImageResult]:
        """Faces in each image, largest first, coordinates in original upright pixels.

        All images go to the detector in one call. Bytes that fail to decode raise ``ImageError``
        for the whole call; to get per-image errors, ``decode`` each first and pass the results.
        ``timings_ms["detect"]`` is the image's share of the batched detector call.
        """
        decoded, decode_ms = self._decode_all(images)
        return self._detect_decoded(decoded, decode_ms, det_prob_threshold, min_face_size, limit)

    def analyze(
        self,
        images: Sequence[ImageInput],
        *,
        model: str | None = None,
        det_prob_threshold: float | None = None,
        min_face_size: int | None = None,
        limit: int = 0,
    ) -> list[ImageResult]:
        """``detect`` + embed every face; all faces of all images go through one embedder call."""
        embedder = self.embedder(model)
        decoded, decode_ms = self._decode_all(images)
        results = self._detect_decoded(decoded, decode_ms, det_prob_threshold, min_face_size, limit)
        start = time.perf_counter()
        crops = [
            embedder.prepare(image.pixels, face_in_pixels(face, image))
            for image, result in zip(decoded, results, strict=True)
            for face in result.faces
        ]
        if crops:
            vectors = embedder.embed(np.stack(crops))
            faces = [face for result in results for face in result.faces]
            for face, vector in zip(faces, vectors, strict=True):
                face.embedding = np.asarray(vector, dtype=np.float32)
                face.model = embedder.name
        embed_share = round(_ms(start) / max(1, len(results)), 2)
        for result in results:
            result.timings_ms["embed"] = embed_share
        return results

    def compare(self, a: ImageInput, b: ImageInput, *, model: str | None = None) -> Comparison:
        """Compare the largest face of ``a`` with the largest face of ``b``."""
        embedder = self.embedder(model)
        results = self.analyze([a, b], model=embedder.name, limit=1)
        for index, result in enumerate(results):
            if not result.faces:
                which = "first" if index == 0 else "second"
                raise NoFaceError(f"No face found in the {which} image.", index=index)
        ea, eb = (r.faces[0].embedding for r in results)
        distance = float(np.linalg.norm(np.asarray(ea) - np.asarray(eb)))
        return Comparison(
            distance=distance,
            similarity=similarity_from_distance(distance, embedder.threshold),
            verified=distance <= embedder.threshold,
            threshold=float(embedder.threshold),
            model=embedder.name,
        )


def load_embedder(name: str, runtime: str, models_dir: Path) -> Embedder:
    """Model ``name`` on ``runtime`` (``EngineSettings.runtime``): its ONNX form on OpenVINO or ONNX
    Runtime (facenet, facenet512), else its reference (TensorFlow; dlib stays dlib)."""
    from facecore.embedders import embedder_class, get_embedder
    from facecore.onnx_models import use_onnx

    found = use_onnx(runtime, name, models_dir)
    if found:
        from facecore.embedders.onnx_embedder import OnnxEmbedder

        executor, paths = found
        return OnnxEmbedder(embedder_class(name), paths[0], executor)
    return get_embedder(name, models_dir)


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine (settings from the environment at first use)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = Engine()
    return _engine
