"""Celery tasks. The engine (and its models) load once per worker process via get_engine()."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError

from images import pipeline, webhooks
from images.models import Image
from infra import dispatch
from infra.errors import ErrorCode
from infra.storage import StorageUnavailable

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = (StorageUnavailable, OperationalError, InterfaceError)
"""Retried with exponential backoff; when retries run out the image fails with a code."""


def failure_code(exc: BaseException) -> ErrorCode:
    if isinstance(exc, StorageUnavailable):
        return ErrorCode.STORAGE_UNAVAILABLE
    if isinstance(exc, DatabaseError):
        return ErrorCode.DATABASE_UNAVAILABLE
    return ErrorCode.INTERNAL_ERROR


@worker_process_init.connect
def load_models(**kwargs) -> None:
    """Load the detector and default model when a worker process starts, not in its first job."""
    from worker.warmup import warm_engine

    try:
        warm_engine()
    except Exception:
        log.exception("could not preload models; the first job will try again")


class ImageJobTask(Task):
    """Makes every final failure visible: the image ends ``failed`` with a code."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        image_id = args[0] if args else kwargs.get("image_id")
        code = failure_code(exc)
        message = f"Processing failed after {self.request.retries} retries: {exc}"
        if code == ErrorCode.INTERNAL_ERROR:
            message = f"Internal error while processing: {type(exc).__name__}"
        try:
            pipeline.mark_failed(image_id, code, message)
        except Exception:
            log.exception("could not mark image %s failed", image_id)


@shared_task(
    name=dispatch.PROCESS_IMAGE,
    bind=True,
    base=ImageJobTask,
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=settings.FACECORE_JOB_RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=settings.FACECORE_JOB_MAX_RETRIES,
)
def process_image(self, image_id: str) -> None:
    """Detect and embed the faces of one uploaded image."""
    try:
        pipeline.process(image_id)
    except pipeline.JobFailed as exc:
        pipeline.mark_failed(image_id, exc.code, exc.message)


@shared_task(name=dispatch.DELIVER_WEBHOOK, bind=True, acks_late=True, ignore_result=True)
def deliver_webhook(self, image_id: str, number: int = 1) -> None:
    """One delivery attempt; on failure schedules the next with exponential backoff."""
    image = Image.objects.select_related("application").filter(pk=image_id).first()
    if image is None or not image.callback_url:
        return
    attempt = webhooks.deliver(image, number)
    if attempt.succeeded or number >= settings.FACECORE_WEBHOOK_MAX_ATTEMPTS:
        return
    dispatch.send(
        dispatch.DELIVER_WEBHOOK,
        [image_id, number + 1],
        settings.FACECORE_WEBHOOKS_QUEUE,
        countdown=webhooks.backoff_seconds(number),
    )
