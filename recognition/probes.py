"""Synchronous calls served by the worker pool: store the image, enqueue the pipeline's task,
poll the database until the image is finished (no Celery result backend needed)."""

from __future__ import annotations

import logging
import time

from api.errors import ApiError
from api.intake import ERROR_STATUS, CheckedImage
from api.models import Application, Image, ImagePurpose, ImageStatus
from api.storage import StorageUnavailable, get_store
from api.submission import submit_image
from recognition import conf

log = logging.getLogger(__name__)


def submit(app: Application, checked: CheckedImage, purpose: str, options: dict) -> Image:
    """Store the original and enqueue the worker task; ApiError 503 when store or queue is down."""
    image, _ = submit_image(app, checked, purpose=purpose, options=options)
    return image


def wait(image: Image, timeout: float | None = None) -> Image:
    """The finished image; ApiError 504 ``timeout`` (the image is discarded) if it takes too long."""
    timeout = conf.sync_timeout() if timeout is None else timeout
    deadline = time.monotonic() + timeout
    interval = conf.sync_poll_interval()
    while True:
        status = Image.objects.filter(pk=image.pk).values_list("status", flat=True).first()
        if status in (ImageStatus.DONE, ImageStatus.FAILED) or status is None:
            break
        if time.monotonic() >= deadline:
            discard(image)
            raise ApiError(
                "timeout", f"The worker did not finish within {timeout:g} s (FACECORE_SYNC_TIMEOUT).", 504
            )
        time.sleep(interval)
        interval = min(interval * 1.5, 0.5)
    fresh = Image.objects.filter(pk=image.pk).first()
    if fresh is None:
        raise ApiError("not_found", "The image was deleted while it was processed.", 404)
    return fresh


def failure_error(image: Image, field: str = "image") -> ApiError:
    """The API error for an image the worker refused or could not process."""
    code = image.error_code or "processing_failed"
    status = ERROR_STATUS.get(code, 503 if code in ("model_unavailable", "storage_unavailable") else 500)
    return ApiError(code, f"{field}: {image.error_message or 'processing failed'}", status)


def run(app: Application, checked: CheckedImage, purpose: str, options: dict, field: str = "image") -> Image:
    """submit + wait; the finished image (status ``done``), else the image's error as ApiError."""
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


PROBE = ImagePurpose.PROBE
EXAMPLE = ImagePurpose.EXAMPLE
