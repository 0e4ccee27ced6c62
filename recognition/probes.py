"""Synchronous calls served by the worker pool: store the image, enqueue the pipeline's task,
poll the database until the image is finished (no Celery result backend needed)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection

from images.checks import CheckedImage
from images.models import Image, ImageStatus
from images.signals import FINISHED_CHANNEL
from images.submission import submit_image
from infra import pg_listen
from infra.errors import ErrorCode, ServiceError
from infra.storage import StorageUnavailable, get_store
from tenants.models import Application

log = logging.getLogger(__name__)

POLL_CEILING_SECONDS = 0.5


def submit(app: Application, checked: CheckedImage, purpose: str, options: dict) -> Image:
    """Store the original and enqueue the worker task; ServiceError 503 when store or queue is down."""
    image, _ = submit_image(app, checked, purpose=purpose, options=options, needs_queue=True)
    return image


def wait(image: Image, timeout: float | None = None) -> Image:
    """The finished image; ServiceError 504 ``timeout`` (the image is discarded) if it takes too long.

    The worker announces the end of each job (``images.signals.FINISHED_CHANNEL``), which wakes
    this call at once; between wake-ups it still polls, more and more slowly (up to 0.5 s), in
    case an announcement is missed (the listener reconnecting, a pooler without LISTEN).
    """
    timeout = settings.FACECORE_SYNC_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    interval = settings.FACECORE_SYNC_POLL_INTERVAL
    with pg_listen.listener(FINISHED_CHANNEL).waiting(str(image.pk)) as finished:
        while True:
            status = Image.objects.filter(pk=image.pk).values_list("status", flat=True).first()
            if status in (ImageStatus.DONE, ImageStatus.FAILED) or status is None:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                discard(image)
                raise ServiceError(
                    ErrorCode.TIMEOUT,
                    f"The worker did not finish within {timeout:g} s (FACECORE_SYNC_TIMEOUT).",
                )
            lend_connection_back()
            finished.wait(min(interval, left))
            finished.clear()
            interval = min(interval * 1.5, POLL_CEILING_SECONDS)
    fresh = Image.objects.filter(pk=image.pk).first()
    if fresh is None:
        raise ServiceError(ErrorCode.NOT_FOUND, "The image was deleted while it was processed.")
    return fresh


def lend_connection_back() -> None:
    """Give this thread's database connection back to the pool while it sleeps between polls, so
    many waiting calls share a few connections (FACECORE_DB_POOL_SIZE). Without a pool, or inside
    a transaction, the connection is kept (a new one per poll would cost more than it saves)."""
    if settings.DB_POOL_SIZE and not connection.in_atomic_block:
        connection.close()


def failure_error(image: Image, field: str = "image") -> ServiceError:
    """The error for an image the worker refused or could not process (its job's code)."""
    code = image.error_code or ErrorCode.PROCESSING_FAILED
    return ServiceError(code, f"{field}: {image.error_message or 'processing failed'}")


def run(app: Application, checked: CheckedImage, purpose: str, options: dict, field: str = "image") -> Image:
    """submit + wait; the finished image (status ``done``), else the image's error as ServiceError."""
    image = wait(submit(app, checked, purpose, options))
    if image.status != ImageStatus.DONE:
        discard(image)
        raise failure_error(image, field)
    return image


def discard(image: Image) -> None:
    """Delete a probe (or failed example) image: its stored objects, row, faces and matches."""
    store = get_store()
    for key in image.stored_object_keys():
        try:
            store.delete(key)
        except StorageUnavailable:
            log.warning("could not delete %s of discarded image %s", key, image.id)
    Image.objects.filter(pk=image.pk).delete()
