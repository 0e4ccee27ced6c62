"""Tally a job or a webhook when it reaches a new state, from Django's model signals.

The pipeline and the webhook sender are not touched: a status is recorded when the instance
is loaded (``post_init``) and a save that moves it to another status adds to the tallies in the
same transaction. Instances whose status was not loaded (``.only()``), rows created directly in
a final state, and ``QuerySet.update()`` calls are not jobs finishing and count nothing.
"""

from __future__ import annotations

from django.db.models.signals import post_init, post_save
from django.dispatch import receiver

from images.models import DeliveryStatus, Face, Image, ImageStatus, WebhookAttempt, WebhookDelivery
from images.signals import faces_stored
from metrics import tally

LOADED = "_metrics_status"
FACES = "_metrics_faces"
FINISHED = {ImageStatus.DONE, ImageStatus.FAILED}


@receiver(post_init, sender=Image, dispatch_uid="metrics-image-loaded")
@receiver(post_init, sender=WebhookDelivery, dispatch_uid="metrics-delivery-loaded")
def remember_status(sender, instance, **kwargs) -> None:
    # __dict__: reading a deferred field would cost a query per instance.
    instance.__dict__[LOADED] = instance.__dict__.get("status")


@receiver(faces_stored, sender=Image, dispatch_uid="metrics-faces-stored")
def remember_faces(sender, image: Image, faces, **kwargs) -> None:
    """Sent in the job's transaction just before the image is saved ``done``."""
    image.__dict__[FACES] = len(faces)


def _moved(instance, created: bool, update_fields) -> tuple[str | None, str] | None:
    """``(old, new)`` when this save changed the loaded status, else None."""
    if created or (update_fields is not None and "status" not in update_fields):
        return None
    old, new = instance.__dict__.get(LOADED), instance.__dict__.get("status")
    if old is None or new is None or old == new:
        return None
    instance.__dict__[LOADED] = new  # a second save of the same instance counts nothing
    return old, new


@receiver(post_save, sender=Image, dispatch_uid="metrics-image-saved")
def image_saved(sender, instance: Image, created: bool, update_fields=None, **kwargs) -> None:
    moved = _moved(instance, created, update_fields)
    if moved is None:
        return
    old, new = moved
    batch = tally.Batch()
    if new == ImageStatus.RETRYING:
        batch.inc("facecore_job_retries", code=(instance.last_error or {}).get("code", ""))
    elif new in FINISHED and old not in FINISHED:
        _finished(batch, instance)
    tally.add(batch)


NOT_STAGES = {"total", "batch_size"}
"""Keys of Image.timings that are not a stage's milliseconds (the whole job; a count)."""


def _finished(batch: tally.Batch, image: Image) -> None:
    purpose = image.purpose
    batch.inc("facecore_jobs_finished", status=image.status, purpose=purpose)
    if image.finished_at and image.created_at:
        seconds = max(0.0, (image.finished_at - image.created_at).total_seconds())
        batch.observe("facecore_job_latency_seconds", seconds, status=image.status, purpose=purpose)
    if image.status == ImageStatus.FAILED:
        batch.inc("facecore_job_failures", code=image.error_code or "unknown")
        return
    faces = image.__dict__.get(FACES)
    if faces is None:
        faces = Face.objects.filter(image_id=image.pk).count()
    batch.inc("facecore_faces", faces, purpose=purpose)
    timings = image.timings or {}
    for stage, ms in timings.items():
        if isinstance(ms, int | float) and stage not in NOT_STAGES:
            batch.observe("facecore_job_stage_seconds", ms / 1000, stage=stage)
    if isinstance(timings.get("total"), int | float):
        batch.observe("facecore_job_duration_seconds", timings["total"] / 1000, purpose=purpose)


def attempt_outcome(attempt: WebhookAttempt) -> str:
    if attempt.succeeded:
        return "success"
    if attempt.error.startswith("refused"):
        return "refused"
    return "http_error" if attempt.status_code is not None else "network_error"


@receiver(post_save, sender=WebhookAttempt, dispatch_uid="metrics-webhook-attempt")
def webhook_attempted(sender, instance: WebhookAttempt, created: bool, **kwargs) -> None:
    if not created:
        return
    batch = tally.Batch()
    batch.inc("facecore_webhook_attempts", outcome=attempt_outcome(instance))
    batch.observe("facecore_webhook_attempt_seconds", (instance.duration_ms or 0) / 1000)
    tally.add(batch)


@receiver(post_save, sender=WebhookDelivery, dispatch_uid="metrics-webhook-delivery")
def delivery_saved(sender, instance: WebhookDelivery, created: bool, update_fields=None, **kwargs) -> None:
    moved = _moved(instance, created, update_fields)
    if moved is None or moved[0] != DeliveryStatus.PENDING:
        return
    batch = tally.Batch()
    batch.inc("facecore_webhook_deliveries", outcome=moved[1])
    tally.add(batch)
