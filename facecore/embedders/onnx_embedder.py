"""FaceNet 128/512 on the ONNX runtimes (OpenVINO, ONNX Runtime): the same crops and pixel scaling as the TensorFlow embedders.

The networks are converted from the pinned weights by ``facecore.onnx_models``; the crop
(``margin_crop``), the per-model pixel scaling and the final L2 normalisation are the TensorFlow
embedders' own code, so only the network runs elsewhere. Stored embeddings stay comparable
(cosine >= 0.9999 against TensorFlow on the shared photos, tests/engine/test_onnx_runtime.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from facecore.embedders.base import l2_normalize
from facecore.embedders.crop import fixed_standardize, margin_crop, prewhiten
from facecore.types import Face

BATCH_SIZE = 8
"""Crops per network call. Each batch size the runtime sees keeps its own activation buffers
(FaceNet: ~95 MB at 1, ~120 MB more at 32 on OpenVINO), so calls take at most 8 crops, padded to
1, 2, 4 or 8 (``_bucket``): four shapes and ~60 MB in all, at no measurable cost per face."""


def _bucket(n: int) -> int:
    size = 1
    while size < n:
        size *= 2
    return min(size, BATCH_SIZE)


PREPROCESS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "facenet": prewhiten,
    "facenet512": fixed_standardize,
}
"""uint8 crops -> network input, per model (what facenet.py / facenet512.py do before the network)."""


class OnnxEmbedder:
    """``Embedder`` protocol on an ONNX file; ``reference`` is the TensorFlow class it stands for."""

    def __init__(self, reference: type, path: Path | str, executor: str) -> None:
        from facecore.runtime import Net

        self.name: str = reference.name
        self.dimension: int = reference.dimension
        self.threshold: float = reference.threshold
        self.executor = executor
        self._input_size = 160
        self._margin = 0.10
        self._preprocess = PREPROCESS[self.name]
        self._net = Net(path, executor)

    def prepare(self, image: np.ndarray, face: Face) -> np.ndarray:
        return margin_crop(image, face.box, self._margin, self._input_size)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        crops = np.asarray(crops)
        if len(crops) == 0:
            return np.zeros((0, self.dimension), np.float32)
        x = np.asarray(self._preprocess(crops), dtype=np.float32)
        out = [self._net.run({"crops": x[i : i + BATCH_SIZE]})[0] for i in range(0, len(x), BATCH_SIZE)]
        return l2_normalize(np.concatenate(out))
