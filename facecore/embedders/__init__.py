"""Registry of embedding models: ``get_embedder(name, models_dir)``.

Model modules import TensorFlow/dlib lazily, so importing this package stays cheap
(``models list`` only needs ``MODEL_NAMES`` and ``facecore.fetch.weights_present``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from facecore.embedders.base import Embedder, l2_normalize, similarity_from_distance
from facecore.fetch import weights_present

_CLASSES: dict[str, tuple[str, str]] = {
    "facenet": ("facecore.embedders.facenet", "FaceNetEmbedder"),
    "facenet512": ("facecore.embedders.facenet512", "FaceNet512Embedder"),
    "dlib": ("facecore.embedders.dlib_resnet", "DlibResNetEmbedder"),
}

MODEL_NAMES: tuple[str, ...] = tuple(_CLASSES)
"""Known model names; ``facenet`` is the default."""


def embedder_class(name: str) -> type:
    try:
        module, cls = _CLASSES[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}") from None
    return getattr(importlib.import_module(module), cls)


def get_embedder(name: str, models_dir: Path | str) -> Embedder:
    """Load model ``name`` on its reference runtime (TensorFlow, or dlib) (slow: builds the network
    and reads weights). Call once per process. The engine runs the ONNX form instead where the
    runtime setting says so (``Engine.embedder``, ``facecore.onnx_models.use_onnx``).

    Raises ``ModelUnavailableError`` when the weights are not in ``models_dir``.
    """
    return embedder_class(name)(models_dir)


__all__ = [
    "MODEL_NAMES",
    "Embedder",
    "embedder_class",
    "get_embedder",
    "l2_normalize",
    "similarity_from_distance",
    "weights_present",
]
