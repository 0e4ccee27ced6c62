"""Turning a checked upload into a job: store the original, record the image, enqueue its task.

The ``queued`` image row is the job's record; its message is sent after the row is committed.
If the broker is down then, nothing is lost: the upload is accepted and the reconciler sends the
message when the broker is back. Used by POST /api/v1/images and by recognition (examples and
probes, which need an answer now and so refuse with 503 instead)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from images.checks import CheckedImage
from images.models import Image, ImagePurpose
from infra import dispatch
from infra.errors import queue_unavailable, storage_unavailable
from infra.storage import StorageUnavailable, get_store, original_key
from tenants.models import Application

log = logging.getLogger(__name__)

DEFAULT_OPTIONS = {"det_prob_threshold": None, "limit": 0}


def enqueue(image: Image) -> bool:
    """Send the image's job message; False (logged) when the broker cannot be reached."""
    try:
        dispatch.send(dispatch.PROCESS_IMAGE, [str(image.id)], settings.FACECORE_FACES_QUEUE)
    except Exception as exc:
        log.warning("image %s not enqueued (%s); the reconciler will send it", image.id, exc)
        return False
    return True


def submit_image(
    app: Application,
    checked: CheckedImage,
    *,
    purpose: str = ImagePurpose.JOB,
    options: dict | None = None,
    request_id: str | None = None,
    callback_url: str = "",
    needs_queue: bool = False,
) -> tuple[Image, bool]:
    """Store and enqueue ``checked``; ``(image, created)``.

    ``created`` is False when another request with the same ``request_id`` won the race: the
    unique (application, request_id) constraint makes this insert wait for the first, then fail,
    and the first image is returned. ServiceError 503 when the object store is down, and with
    ``needs_queue`` when the broker is; nothing is left behind then.
    """
    image = Image(
        application=app,
        purpose=purpose,
        request_id=request_id or None,
        callback_url=callback_url,
        format=checked.format,
        content_type=checked.content_type,
        size_bytes=len(checked.data),
        width=checked.width,
        height=checked.height,
        options={**DEFAULT_OPTIONS, **(options or {})},
        enqueued_at=timezone.now(),
    )
    image.object_key = original_key(image.id)
    store = get_store()
    try:
        with transaction.atomic():
            image.save(force_insert=True)
            store.put(image.object_key, checked.data, checked.content_type)
    except IntegrityError:
        existing = (
            Image.objects.filter(application=app, request_id=request_id).first() if request_id else None
        )
        if existing is None:
            raise
        return existing, False
    except StorageUnavailable as exc:
        log.warning("object store unavailable on upload: %s", exc)
        raise storage_unavailable() from exc
    if not enqueue(image) and needs_queue:
        store.delete(image.object_key)
        image.delete()
        raise queue_unavailable()
    return image, True
