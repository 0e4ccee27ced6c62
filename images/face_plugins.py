"""Face plugins: extra facts about each face, asked for by name (``face_plugins=`` on the
synchronous endpoints, ``include=`` on an image's status, CompreFace's ``face_plugins``).

None of them needs a model beyond the detector and the embedder the job already ran:

* ``calculator``: the face's embedding (and the model that made it);
* ``landmarks``: the five points (facecore always returns them; accepted for CompreFace);
* ``pose``: yaw, pitch and roll in degrees from the five landmarks (facecore.quality.estimate_pose);
* ``quality``: size, sharpness, pose and exposure measures and a score in [0, 1], taken by the
  worker when it found the face (facecore.quality.assess_face; null for faces stored before).

``age``, ``gender`` and ``mask`` need models facecore does not ship: asking for them is refused
with a message naming the plugins that are available, never ignored.
"""

from __future__ import annotations

import re

from facecore.quality import estimate_pose
from images.models import Face
from infra.errors import ErrorCode, ServiceError

AVAILABLE = ("calculator", "landmarks", "pose", "quality")
NEEDS_A_MODEL = ("age", "gender", "mask")
"""CompreFace's plugins that need a model facecore does not have."""
NONE_VALUES = {"", "undefined", "null", "none"}
"""What clients send for "no plugin" (Double Take pastes an unset option as ``undefined``)."""
_SEPARATORS = re.compile(r"[,\s]+")


def parse_plugins(raw: object, field: str = "face_plugins") -> tuple[str, ...]:
    """The plugins named in ``raw`` (comma and/or space separated), in AVAILABLE's order.

    ServiceError ``invalid_request`` naming the available plugins for anything else.
    """
    if raw is None:
        return ()
    if not isinstance(raw, str):
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{field}' must be a comma-separated string.")
    if raw.strip().lower() in NONE_VALUES:
        return ()
    asked = {name.lower() for name in _SEPARATORS.split(raw.strip()) if name}
    unknown = sorted(asked - set(AVAILABLE))
    if unknown:
        needing = [name for name in unknown if name in NEEDS_A_MODEL]
        why = f" ({', '.join(needing)} need a model facecore does not ship)" if needing else ""
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            f"Unknown face plugin(s) {', '.join(unknown)}{why}; available: {', '.join(AVAILABLE)}.",
        )
    return tuple(name for name in AVAILABLE if name in asked)


def face_pose(face: Face) -> dict[str, float] | None:
    """``{"yaw", "pitch", "roll"}`` in degrees, rounded to 0.01; None without five landmarks."""
    try:
        pose = estimate_pose(face.as_engine_face().landmarks)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return {"yaw": round(pose.yaw, 2), "pitch": round(pose.pitch, 2), "roll": round(pose.roll, 2)}


def plugin_values(face: Face, plugins: tuple[str, ...] | list[str]) -> dict:
    """The fields the plugins add to a face in facecore's JSON: ``embedding`` and ``model``
    (calculator), ``pose``, ``quality``. ``landmarks`` adds nothing (always there)."""
    out: dict = {}
    if "calculator" in plugins:
        out["embedding"] = [float(x) for x in face.embedding] if face.embedding is not None else None
        out["model"] = face.model or None
    if "pose" in plugins:
        out["pose"] = face_pose(face)
    if "quality" in plugins:
        out["quality"] = face.quality
    return out
