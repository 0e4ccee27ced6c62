"""Cross-job batching: a worker that starts one image takes other queued images with it, so the
engine runs detection and embedding on several images in one call (FaceNet costs about half per
face at batch 8 than at batch 1).

The images are claimed in PostgreSQL, not from the broker: up to FACECORE_BATCH_SIZE - 1 other
``queued`` images, oldest first, locked with ``SKIP LOCKED`` (two workers never claim the same
image) and leased exactly as a single start leases its image. Their own Celery messages come
later and find them leased or finished, and skip (images.pipeline is safe to run twice).

Only first starts are batched: an image that was started before (a retry, or a redelivery after
its worker died) runs alone, so an image that crashes its worker cannot take batch-mates down
with it more than once, and ``worker_lost`` counts only its own starts.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from images import leases
from images.models import Image, ImageStatus

POLL_SECONDS = 0.01
"""How often the database is asked for newly queued images during FACECORE_BATCH_WAIT_MS."""


def claim_mates(primary: Image) -> list[Image]:
    """Claim (lease) other queued images to process together with ``primary``, just started.

    Waits up to FACECORE_BATCH_WAIT_MS for more to arrive while the batch is not full.
    """
    wanted = settings.FACECORE_BATCH_SIZE - 1
    if wanted <= 0 or primary.deliveries != 1:
        return []
    deadline = time.monotonic() + settings.FACECORE_BATCH_WAIT_MS / 1000
    mates: list[Image] = []
    while True:
        mates += claim_queued(wanted - len(mates), exclude=[primary.pk, *(m.pk for m in mates)])
        left = deadline - time.monotonic()
        if len(mates) >= wanted or left <= 0:
            return mates
        time.sleep(min(POLL_SECONDS, left))


def claim_queued(count: int, exclude: list) -> list[Image]:
    """Lease up to ``count`` of the oldest never-started ``queued`` images nobody else holds."""
    if count <= 0:
        return []
    with transaction.atomic():
        rows = list(
            Image.objects.select_for_update(skip_locked=True)
            .filter(status=ImageStatus.QUEUED, deliveries=0)
            .exclude(pk__in=exclude)
            .order_by("created_at")[:count]
        )
        now = timezone.now()
        for row in rows:
            leases.start(row, now)
        Image.objects.bulk_update(rows, leases.STARTED_FIELDS)
    return rows
