"""Turning a checked upload into a job: store the original, record the image, enqueue its task.

Used by POST /api/v1/images and by recognition (examples and probes)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction

from images.checks import CheckedImage
from images.models import Image, ImagePurpose
from infra import dispatch
from infra.errors import queue_unavailable, storage_unavailable
from infra.storage import StorageUnavailable, get_store, original_key
from tenants.models import Application

log = logging.getLogger(__name__)

DEFAULT_OPTIONS = {"det_prob_threshold": None, "limit": 0}


def enqueue(image: Image) -> None:
    dispatch.send(dispatch.PROCESS_IMAGE, [str(image.id)], settings.FACECORE_FACES_QUEUE)


def submit_image(
    app: Application,
    checked: CheckedImage,
    *,
    purpose: str = ImagePurpose.JOB,
    options: dict | None = None,
    request_id: str | None = None,
    callback_url: str = "",
) -> tuple[Image, bool]:
    """Store and enqueue ``checked``; ``(image, created)``.

    ``created`` is False when another request with the same ``request_id`` won the race: the
    unique (application, request_id) constraint makes this insert wait for the first, then fail,
    and the first image is returned. ServiceError 503 when the object store or the queue is down;
    nothing is left behind then.
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
    try:
        enqueue(image)
    except Exception as exc:
        log.exception("cannot enqueue image %s", image.id)
        store.delete(image.object_key)
        image.delete()
        raise queue_unavailable() from exc
    return image, True
