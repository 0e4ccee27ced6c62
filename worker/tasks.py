"""Celery tasks. Thin: the work is in images.pipeline, images.webhooks and images.reconcile.

PostgreSQL is the record of every piece of work; a message only wakes a worker. A message lost,
duplicated or delayed by the broker or a dying worker is repaired by ``reconcile`` (Celery
beat, every FACECORE_RECONCILE_INTERVAL seconds). The engine (and its models) load once per
worker process via get_engine().
"""

from __future__ import annotations

import logging
import uuid

from celery import Task, shared_task
from celery.exceptions import Retry
from celery.signals import worker_process_init
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from kombu.exceptions import KombuError

from facecore.runtime import release_memory
from images import migration, pipeline, reconcile, signals, webhooks
from images.models import ModelMigration
from infra import dispatch
from infra.errors import ErrorCode
from infra.storage import StorageUnavailable
from worker import heartbeat  # noqa: F401  (connects the worker heartbeat to Celery's signals)

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


@shared_task(name=dispatch.PROCESS_IMAGE, bind=True, base=ImageJobTask, acks_late=True, max_retries=None)
def process_image(self, image_id: str) -> None:
    """Detect and embed the faces of one uploaded image."""
    try:
        pipeline.process(image_id, on_mate_error=batch_mate_failed)
    except pipeline.JobFailed as exc:
        pipeline.mark_failed(image_id, exc.code, exc.message)
    except TRANSIENT_ERRORS as exc:
        retry_later(self, image_id, exc)
    finally:
        release_memory()


def retry_delay(retries: int) -> float:
    """Exponential back-off with full jitter, at most FACECORE_JOB_RETRY_BACKOFF_MAX seconds."""
    maximum = settings.FACECORE_JOB_RETRY_BACKOFF_MAX
    return get_exponential_backoff_interval(factor=1, retries=retries, maximum=maximum, full_jitter=True)


def retry_later(task: Task, image_id: str, exc: Exception) -> None:
    """Mark the image ``retrying`` and send the retry as a delayed message (Celery's retry).

    A retry due later than FACECORE_MAX_COUNTDOWN_SECONDS, or one the broker cannot take now,
    waits in the database for the reconciler instead. When the database itself is down, Celery's
    own retry count is the limit (``on_failure`` then marks the image failed).
    """

    try:
        delay = pipeline.mark_retrying(image_id, failure_code(exc), str(exc), retry_delay)
        if delay is None:
            return  # out of retries: marked failed
    except DatabaseError:
        if task.request.retries >= settings.FACECORE_JOB_MAX_RETRIES:
            raise exc from None
        delay = retry_delay(task.request.retries)
    if delay > settings.FACECORE_MAX_COUNTDOWN_SECONDS:
        return
    try:
        raise task.retry(exc=exc, countdown=delay)
    except Retry:
        raise
    except (KombuError, OSError) as send_error:
        log.warning("retry of image %s not enqueued (%s); the reconciler will send it", image_id, send_error)


def batch_mate_failed(image_id: uuid.UUID, exc: Exception) -> None:
    """A fault of an image that ran in another image's batch: the same outcome it would have had
    in its own job (failed with its code, or ``retrying`` with a delayed message of its own)."""
    try:
        if isinstance(exc, pipeline.JobFailed):
            pipeline.mark_failed(image_id, exc.code, exc.message)
        elif isinstance(exc, TRANSIENT_ERRORS):
            _retry_mate(image_id, exc)
        else:
            log.error("image %s failed in a batch", image_id, exc_info=exc)
            pipeline.mark_failed(
                image_id, ErrorCode.INTERNAL_ERROR, f"Internal error while processing: {type(exc).__name__}"
            )
    except Exception:  # its lease runs out and the reconciler hands it on
        log.exception("could not record the fault of image %s", image_id)


def _retry_mate(image_id: uuid.UUID, exc: Exception) -> None:
    delay = pipeline.mark_retrying(image_id, failure_code(exc), str(exc), retry_delay)
    if delay is None or delay > settings.FACECORE_MAX_COUNTDOWN_SECONDS:
        return  # failed (out of retries), or the reconciler sends it when due
    try:
        dispatch.send(dispatch.PROCESS_IMAGE, [str(image_id)], settings.FACECORE_FACES_QUEUE, countdown=delay)
    except (KombuError, OSError) as send_error:
        log.warning("retry of image %s not enqueued (%s); the reconciler will send it", image_id, send_error)


@shared_task(name=dispatch.DELIVER_WEBHOOK, acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: str, *legacy_args) -> None:
    """One attempt of a due webhook delivery (``legacy_args``: messages from before the outbox)."""
    webhooks.deliver_due(delivery_id)


@shared_task(name=dispatch.RECONCILE, ignore_result=True)
def reconcile_now() -> None:
    """Re-send what the broker may have lost (Celery beat runs this; so does manage.py reconcile)."""
    reconcile.run()


class MigrationBatchTask(Task):
    """A batch that fails for good (retries spent, or a bug) stops its migration as ``failed``."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        migration_id = args[0] if args else kwargs.get("migration_id")
        migration.mark_failed(migration_id, f"{type(exc).__name__}: {exc}")


@shared_task(
    name=dispatch.MIGRATE_EMBEDDINGS,
    base=MigrationBatchTask,
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
)
def migrate_embeddings(migration_id: int) -> None:
    """One batch of a model migration; sends the next one (or switches) when done."""
    if migration.run_batch(migration_id):
        dispatch.send(dispatch.MIGRATE_EMBEDDINGS, [migration_id], settings.FACECORE_FACES_QUEUE)


@shared_task(name=dispatch.ACTIVE_MODEL_CHANGED, acks_late=True, ignore_result=True)
def active_model_changed(model: str) -> None:
    """A migration switched (or rolled back): recognition recomputes matches and clusters."""
    signals.active_model_changed.send(sender=ModelMigration, model=model)
