"""The image status JSON, shared by GET /api/v1/images/{id} and the webhook body."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from api.models import Face, Image, WebhookAttempt


def status_path(image: Image) -> str:
    return reverse("image-detail", kwargs={"image_id": image.id})


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def face_json(face: Face, include_embedding: bool = False) -> dict:
    out = {
        "face_id": str(face.id),
        "box": face.box(),
        "probability": round(float(face.probability), 6),
        "landmarks": face.landmarks,
    }
    if include_embedding:
        out["embedding"] = [float(x) for x in face.embedding] if face.embedding is not None else None
        out["model"] = face.model or None
    return out


def attempt_json(attempt: WebhookAttempt) -> dict:
    return {
        "number": attempt.number,
        "attempted_at": _iso(attempt.attempted_at),
        "status_code": attempt.status_code,
        "error": attempt.error or None,
        "duration_ms": round(attempt.duration_ms, 1),
    }


def image_summary(image: Image, base_url: str = "") -> dict:
    """The fields shown in lists and in the 202 answer."""
    return {
        "image_id": str(image.id),
        "status": image.status,
        "status_url": base_url + status_path(image),
        "request_id": image.request_id,
        "created_at": _iso(image.created_at),
        "started_at": _iso(image.started_at),
        "finished_at": _iso(image.finished_at),
        "error": {"code": image.error_code, "message": image.error_message} if image.error_code else None,
    }


def image_status(image: Image, include_embedding: bool = False, base_url: str | None = None) -> dict:
    """Full status: summary + image facts, timings, faces (original pixels) and webhook attempts."""
    if base_url is None:
        base_url = settings.FACECORE_PUBLIC_URL
    out = image_summary(image, base_url)
    faces = list(image.faces.all()) if image.status == "done" else []
    out.update(
        {
            "format": image.format or None,
            "size_bytes": image.size_bytes,
            "width": image.width,
            "height": image.height,
            "options": image.options,
            "timings": image.timings,
            "original_deleted": image.original_deleted,
            "annotated_url": base_url + status_path(image) + "/annotated",
            "face_count": len(faces),
            "faces": [face_json(face, include_embedding) for face in faces],
        }
    )
    out["recognition"] = (image.result or {}).get("recognition")  # recognition: "recognize" option
    if include_embedding:
        out["model"] = next((f.model for f in faces if f.model), image.options.get("model"))
    out["webhook"] = (
        {
            "callback_url": image.callback_url,
            "attempts": [attempt_json(a) for a in image.webhook_attempts.all()],
        }
        if image.callback_url
        else None
    )
    return out
