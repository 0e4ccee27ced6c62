"""The reconciler: the database is the record of every piece of work, the broker only a wake-up
signal. One pass re-sends what a broker restart, a lost message or a dead worker left behind:

* images ``processing`` whose lease ran out (their worker died): back to ``queued``, re-sent;
* images ``retrying`` whose retry is overdue (the delayed message was lost, or was too far out
  to send as one);
* images ``queued`` longer than FACECORE_REQUEUE_AFTER_SECONDS when the broker holds fewer
  messages than there are queued images (their messages were lost): the oldest are re-sent;
* webhook deliveries that are due and were not sent recently.

Everything it sends is safe to run twice (see images.pipeline and images.webhooks). Celery beat
runs it every FACECORE_RECONCILE_INTERVAL seconds; ``manage.py reconcile`` runs one pass.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from images import webhooks
from images.models import DeliveryStatus, Image, ImageStatus, WebhookDelivery
from infra import dispatch

log = logging.getLogger(__name__)

BATCH = 500
"""Most of each kind re-sent per pass (the next pass continues)."""


@dataclass
class Repairs:
    expired_leases: int = 0
    overdue_retries: int = 0
    lost_queued: int = 0
    webhooks: int = 0
    broker_down: bool = False

    def total(self) -> int:
        return self.expired_leases + self.overdue_retries + self.lost_queued + self.webhooks


def enqueue_images(ids: list) -> int:
    """Send the job message of each image; stops at the first broker failure. Returns sent."""
    sent = 0
    for image_id in ids:
        Image.objects.filter(pk=image_id).update(enqueued_at=timezone.now())
        dispatch.send(dispatch.PROCESS_IMAGE, [str(image_id)], settings.FACECORE_FACES_QUEUE)
        sent += 1
    return sent


def _expired_leases(now) -> list:
    expired = Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True, started_at__lt=now - lease())
    with transaction.atomic():
        rows = list(
            Image.objects.select_for_update(skip_locked=True)
            .filter(expired, status=ImageStatus.PROCESSING)
            .values_list("pk", flat=True)[:BATCH]
        )
        Image.objects.filter(pk__in=rows).update(status=ImageStatus.QUEUED, lease_expires_at=None)
    return rows


def _overdue_retries(now) -> list:
    """Retries overdue by more than the grace time: their delayed message did not come."""
    overdue = Image.objects.filter(status=ImageStatus.RETRYING, next_attempt_at__lt=now - grace())
    overdue = overdue.filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - grace()))
    return list(overdue.order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH])


def _lost_queued(now) -> list:
    queued = Image.objects.filter(status=ImageStatus.QUEUED)
    waiting = dispatch.queue_length(settings.FACECORE_FACES_QUEUE) or 0
    missing = queued.count() - waiting
    if missing <= 0:
        return []
    old = queued.filter(Q(enqueued_at__lt=now - grace()) | Q(enqueued_at__isnull=True))
    return list(old.order_by("created_at").values_list("pk", flat=True)[: min(missing, BATCH)])


def _due_webhooks(now) -> list:
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    not_sent_lately = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - grace())
    return list(due.filter(not_sent_lately).order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH])


def lease() -> timedelta:
    return timedelta(seconds=settings.FACECORE_JOB_LEASE_SECONDS)


def grace() -> timedelta:
    return timedelta(seconds=settings.FACECORE_REQUEUE_AFTER_SECONDS)


def _locked() -> bool:
    """One pass at a time across all beats and commands (a session-level advisory lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext('facecore-reconcile'))")
        return bool(cursor.fetchone()[0])


def _unlock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(hashtext('facecore-reconcile'))")


def run() -> Repairs:
    """One reconciler pass; what it re-sent."""
    repairs = Repairs()
    if not _locked():
        log.info("another reconciler pass is running")
        return repairs
    try:
        now = timezone.now()
        try:
            repairs.expired_leases = enqueue_images(_expired_leases(now))
            repairs.overdue_retries = enqueue_images(_overdue_retries(now))
            repairs.lost_queued = enqueue_images(_lost_queued(now))
            for delivery_id in _due_webhooks(now):
                if not webhooks.send(delivery_id):
                    raise ConnectionError("broker unreachable")
                repairs.webhooks += 1
        except Exception as exc:
            repairs.broker_down = True
            log.warning("reconciler stopped: cannot enqueue (%s); the next pass continues", exc)
    finally:
        _unlock()
    if repairs.total() or repairs.broker_down:
        log.info("reconciler: %s", asdict(repairs))
    return repairs
