"""Processing leases. A worker holds a lease on each image it works on and a background thread
renews it; if the worker dies, the lease runs out and the reconciler hands the image to another
worker. So a crashed job comes back within FACECORE_JOB_LEASE_SECONDS + one reconciler pass,
whatever the broker does with its unacknowledged message."""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from images.models import Image, ImageStatus

log = logging.getLogger(__name__)


def lease_until() -> timezone.datetime:
    return timezone.now() + timedelta(seconds=settings.FACECORE_JOB_LEASE_SECONDS)


STARTED_FIELDS = ["status", "started_at", "deliveries", "lease_expires_at", "next_attempt_at"]
"""The fields ``start`` changes (save them with update_fields)."""


def start(image: Image, now: timezone.datetime) -> None:
    """One more start of ``image`` by this worker: ``processing`` under a fresh lease (the
    caller holds the row's lock and saves STARTED_FIELDS)."""
    image.status = ImageStatus.PROCESSING
    image.deliveries += 1
    image.lease_expires_at = lease_until()
    image.next_attempt_at = None
    if image.started_at is None:
        image.started_at = now


class LeaseKeeper:
    """Renews the leases of the images this process holds, every third of the lease time."""

    def __init__(self) -> None:
        self._held: dict[uuid.UUID, int] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def held(self, image_ids: list[uuid.UUID]) -> Iterator[None]:
        with self._lock:
            for image_id in image_ids:
                self._held[image_id] = self._held.get(image_id, 0) + 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                for image_id in image_ids:
                    self._held[image_id] -= 1
                    if not self._held[image_id]:
                        del self._held[image_id]

    def _run(self) -> None:
        while True:
            self._wake.wait(settings.FACECORE_JOB_LEASE_SECONDS / 3)
            with self._lock:
                ids = list(self._held)
            if not ids:
                continue
            try:
                Image.objects.filter(pk__in=ids, status=ImageStatus.PROCESSING).update(
                    lease_expires_at=lease_until()
                )
            except Exception:  # the database is down: the job itself will notice
                log.warning("could not renew the leases of %d images", len(ids), exc_info=True)
            finally:
                connection.close()  # this thread's own connection; renewals are rare


keeper = LeaseKeeper()
"""One per process."""
