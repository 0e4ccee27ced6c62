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


def get_embedder(name: str, models_dir: Path | str, runtime: str = "tensorflow") -> Embedder:
    """Load model ``name`` (slow: builds the network and reads weights). Call once per process.

    ``runtime`` (``facecore.runtime.RUNTIME_CHOICES``) picks ONNX Runtime or TensorFlow for the
    models that have an ONNX form; dlib always runs on dlib. Raises ``ModelUnavailableError`` when
    the weights are not in ``models_dir``.
    """
    reference = embedder_class(name)
    if runtime != "tensorflow":
        from facecore.runtime import use_onnx

        found = use_onnx(runtime, name, models_dir)
        if found:
            from facecore.embedders.onnx_embedder import OnnxEmbedder

            executor, paths = found
            return OnnxEmbedder(reference, paths[0], executor)
    return reference(models_dir)


__all__ = [
    "MODEL_NAMES",
    "Embedder",
    "embedder_class",
    "get_embedder",
    "l2_normalize",
    "similarity_from_distance",
    "weights_present",
]
