"""facecore's answers (recognition.sync) in CompreFace's shapes.

A facecore face is ``{"box": {x_min, y_min, x_max, y_max}, "probability", "landmarks": {name:
[x, y]}}`` plus what its plugins add (``embedding``, ``pose``, ``quality``). CompreFace's face is
``{"box": {probability, x_max, y_max, x_min, y_min}}`` plus, per plugin, ``embedding``,
``landmarks`` as ``[[x, y], ...]``, ``pose`` and, with ``status=true``, ``execution_time``.
Keys are absent, never null, when a plugin was not asked (CompreFace's NON_NULL rule).
"""

from __future__ import annotations

from facecore.types import LANDMARK_NAMES
from images.embedding_models import active_model

PLUGIN_VERSIONS = {"pose": "facecore.PoseEstimator", "quality": "facecore.FaceQuality"}


def box(face: dict, digits: int | None) -> dict:
    """CompreFace's box; ``digits`` rounds the probability (recognize and verify round to 5)."""
    probability = float(face["probability"])
    b = face["box"]
    return {
        "probability": round(probability, digits) if digits is not None else probability,
        "x_max": b["x_max"],
        "y_max": b["y_max"],
        "x_min": b["x_min"],
        "y_min": b["y_min"],
    }


def landmarks(face: dict) -> list[list[int]]:
    """Five ``[x, y]`` pixel points: left eye, right eye, nose, mouth left, mouth right."""
    points = face.get("landmarks") or {}
    return [[round(points[name][0]), round(points[name][1])] for name in LANDMARK_NAMES if name in points]


def execution_time(timings: dict, with_calculator: bool) -> dict[str, float]:
    """Milliseconds the worker spent on the image (CompreFace reports them per face)."""
    out = {"detector": float(timings.get("detect", 0.0))}
    if with_calculator:
        out["calculator"] = float(timings.get("embed", 0.0))
    return out


def face(
    found: dict,
    plugins: tuple[str, ...],
    *,
    digits: int | None = 5,
    timings: dict | None = None,
    with_calculator: bool = True,
) -> dict:
    """One face; ``timings`` (status=true) adds ``execution_time``."""
    out: dict = {"box": box(found, digits)}
    if "calculator" in plugins and found.get("embedding") is not None:
        out["embedding"] = found["embedding"]
    if "landmarks" in plugins:
        out["landmarks"] = landmarks(found)
    if "pose" in plugins and found.get("pose") is not None:
        pose = found["pose"]
        out["pose"] = {"pitch": pose["pitch"], "roll": pose["roll"], "yaw": pose["yaw"]}
    if "quality" in plugins and found.get("quality") is not None:
        out["quality"] = found["quality"]
    if timings is not None:
        out["execution_time"] = execution_time(timings, with_calculator or "calculator" in plugins)
    return out


def plugins_versions(plugins: tuple[str, ...], model: str | None, with_calculator: bool = True) -> dict:
    """The detector and every plugin that ran (``landmarks`` is left out, as CompreFace does)."""
    out = {"detector": "facecore.MTCNN"}
    if with_calculator or "calculator" in plugins:
        out["calculator"] = f"facecore.{model or active_model()}"
    out.update({name: PLUGIN_VERSIONS[name] for name in plugins if name in PLUGIN_VERSIONS})
    return out
