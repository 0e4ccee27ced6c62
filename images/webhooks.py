"""Signed webhook delivery from an outbox.

``schedule`` writes the delivery row in the transaction that finishes the image and sends its
message after commit (a failed send loses nothing: the reconciler sends due deliveries).
``deliver_due`` makes one attempt under a row lock, so a duplicated or redelivered message
never sends twice at once; a receiver may still see an event again (a worker that died after the
POST), so every attempt carries the same ``X-Facecore-Event-Id`` to dedupe on.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from images.models import DeliveryStatus, Image, WebhookAttempt, WebhookDelivery
from images.serializers import image_status
from infra import dispatch
from infra.safe_http import UnsafeUrl, UrlRefused, request_checked
from infra.signing import sign

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 500
EARLY_TOLERANCE = timedelta(seconds=1)
"""A delayed message may arrive this much before its attempt is due (clocks of other hosts)."""


def body_for(image: Image) -> bytes:
    """The same JSON as GET /api/v1/images/{id}."""
    return json.dumps(image_status(image), separators=(",", ":")).encode()


def backoff_seconds(number: int) -> float:
    """Delay before attempt ``number + 1``: base, 2x base, 4x base, …"""
    return settings.FACECORE_WEBHOOK_BACKOFF_SECONDS * 2 ** (number - 1)


def schedule(image: Image) -> WebhookDelivery | None:
    """Inside the transaction that finishes ``image``: its delivery row, sent after commit."""
    if not image.callback_url:
        return None
    delivery, created = WebhookDelivery.objects.get_or_create(
        image=image, defaults={"event": f"image.{image.status}", "next_attempt_at": timezone.now()}
    )
    if created:
        delivery_id = delivery.id
        transaction.on_commit(lambda: send(delivery_id))
    return delivery


def send(delivery_id: uuid.UUID, countdown: float | None = None) -> bool:
    """Enqueue one attempt of the delivery; False (logged) when the broker cannot be reached."""
    WebhookDelivery.objects.filter(pk=delivery_id).update(enqueued_at=timezone.now())
    try:
        dispatch.send(
            dispatch.DELIVER_WEBHOOK, [str(delivery_id)], settings.FACECORE_WEBHOOKS_QUEUE, countdown
        )
    except Exception as exc:
        log.warning("webhook %s not enqueued (%s); the reconciler will send it", delivery_id, exc)
        return False
    return True


def _locked(delivery_or_image_id: str) -> WebhookDelivery | None:
    """The delivery, locked; None if another worker holds it. Messages from before the outbox
    carried the image id instead of the delivery id."""
    try:
        key = uuid.UUID(str(delivery_or_image_id))
    except ValueError:
        return None
    return (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("image__application")
        .filter(Q(pk=key) | Q(image_id=key))
        .first()
    )


def deliver_due(delivery_or_image_id: str) -> WebhookAttempt | None:
    """One attempt, if the delivery is pending and due; schedules the next one when it fails.

    None when there is nothing to do now: delivered, given up, not due yet, or being attempted
    by another worker.
    """
    retry_in = None
    with transaction.atomic():
        delivery = _locked(delivery_or_image_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return None
        if delivery.next_attempt_at > timezone.now() + EARLY_TOLERANCE:
            return None
        if delivery.attempts >= settings.FACECORE_WEBHOOK_MAX_ATTEMPTS:
            _finish(delivery, DeliveryStatus.FAILED)
            return None
        attempt, refused = post(delivery)
        delivery.attempts += 1
        if attempt.succeeded:
            _finish(delivery, DeliveryStatus.DELIVERED)
        elif refused:
            _finish(delivery, DeliveryStatus.REFUSED)
        elif delivery.attempts >= settings.FACECORE_WEBHOOK_MAX_ATTEMPTS:
            _finish(delivery, DeliveryStatus.FAILED)
        else:
            retry_in = backoff_seconds(delivery.attempts)
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
            delivery.enqueued_at = None
            delivery.save(update_fields=["attempts", "next_attempt_at", "enqueued_at"])
    if retry_in is not None and retry_in <= settings.FACECORE_MAX_COUNTDOWN_SECONDS:
        # Soon enough for a delayed message; later attempts wait in the database for the reconciler.
        send(delivery.id, countdown=retry_in)
    return attempt


def _finish(delivery: WebhookDelivery, status: str) -> None:
    delivery.status = status
    delivery.finished_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "finished_at"])


def post(delivery: WebhookDelivery) -> tuple[WebhookAttempt, bool]:
    """POST the status to the callback URL once and record the attempt; ``(attempt, refused)``."""
    image = delivery.image
    number = delivery.attempts + 1
    body = body_for(image)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Facecore-Timestamp": timestamp,
        "X-Facecore-Signature": sign(image.application.webhook_secret, timestamp, body),
        "X-Facecore-Event": delivery.event,
        "X-Facecore-Event-Id": str(delivery.id),
        "X-Facecore-Attempt": str(number),
    }
    status_code, error, refused = None, "", False
    start = time.perf_counter()
    try:
        response = request_checked(
            "POST", image.callback_url, body=body, headers=headers, timeout=settings.FACECORE_WEBHOOK_TIMEOUT
        )
        try:
            status_code = response.status
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        finally:
            response.drain_conn()
            response.release_conn()
    except UrlRefused as exc:
        error, refused = f"refused, not retried: {exc}", True
    except UnsafeUrl as exc:
        error = str(exc)
    except Exception as exc:  # any network fault is one failed attempt, retried later
        error = f"{type(exc).__name__}: {exc}"
    attempt = WebhookAttempt.objects.create(
        image=image,
        number=number,
        status_code=status_code,
        error=error[:MAX_ERROR_LENGTH],
        duration_ms=(time.perf_counter() - start) * 1000,
    )
    log.info("webhook %s attempt %d -> %s %s", delivery.id, number, status_code, error)
    return attempt, refused
