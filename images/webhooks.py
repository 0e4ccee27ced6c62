"""Signed webhook delivery. One call = one recorded attempt; retries are scheduled by the task."""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings

from images.models import Image, WebhookAttempt
from images.serializers import image_status
from infra.safe_http import UnsafeUrl, request_checked
from infra.signing import sign

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 500


def body_for(image: Image) -> bytes:
    """The same JSON as GET /api/v1/images/{id}."""
    return json.dumps(image_status(image), separators=(",", ":")).encode()


def deliver(image: Image, number: int) -> WebhookAttempt:
    """POST the status to ``image.callback_url`` once and record the attempt."""
    body = body_for(image)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Facecore-Timestamp": timestamp,
        "X-Facecore-Signature": sign(image.application.webhook_secret, timestamp, body),
        "X-Facecore-Event": f"image.{image.status}",
        "X-Facecore-Attempt": str(number),
    }
    status_code, error = None, ""
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
    except UnsafeUrl as exc:
        error = str(exc)
    except Exception as exc:  # any network fault is one failed attempt, retried later
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = (time.perf_counter() - start) * 1000
    attempt = WebhookAttempt.objects.create(
        image=image,
        number=number,
        status_code=status_code,
        error=error[:MAX_ERROR_LENGTH],
        duration_ms=duration_ms,
    )
    log.info("webhook %s attempt %d -> %s %s", image.id, number, status_code, error)
    return attempt


def backoff_seconds(number: int) -> float:
    """Delay before attempt ``number + 1``: base, 2x base, 4x base, …"""
    return settings.FACECORE_WEBHOOK_BACKOFF_SECONDS * 2 ** (number - 1)
