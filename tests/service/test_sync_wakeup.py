"""A synchronous call is woken by the worker's announcement that its job ended (PostgreSQL
LISTEN/NOTIFY, ``infra.pg_listen``), not by its next poll; announcements go out only with the
transaction that finished the job."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, transaction

from images import pipeline
from images.models import Image, ImageStatus
from images.signals import FINISHED_CHANNEL
from infra import pg_listen
from recognition import probes
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_POLL = 30.0
"""Longer than any wait below: a call that returns sooner was woken, not polling."""


def queued_image() -> Image:
    app, _ = factories.application(f"wakeup-{uuid.uuid4().hex[:8]}")
    return factories.image(app, status=ImageStatus.QUEUED)


def test_a_job_that_ends_wakes_the_waiting_call_at_once(settings):
    settings.FACECORE_SYNC_POLL_INTERVAL = SLOW_POLL
    image = queued_image()
    outcome: dict = {}

    def call() -> None:
        try:
            outcome["image"] = probes.wait(image, timeout=60)
        finally:
            connection.close()

    waiter = threading.Thread(target=call)
    waiter.start()
    threading.Event().wait(1.0)  # the call has checked the status once and is waiting
    assert waiter.is_alive()

    pipeline.mark_failed(image.pk, "processing_failed", "the engine gave up")  # the worker's code path

    waiter.join(timeout=10)
    assert not waiter.is_alive(), "the call kept waiting for its next poll"
    assert outcome["image"].status == ImageStatus.FAILED


def test_an_announcement_is_delivered_when_its_transaction_commits_and_never_for_a_rollback():
    key = str(queued_image().pk)
    listener = pg_listen.listener(FINISHED_CHANNEL)
    with listener.waiting(key) as announced:
        with transaction.atomic():
            pg_listen.notify(FINISHED_CHANNEL, key)
            assert not announced.wait(0.5)
        assert announced.wait(5)

    with listener.waiting(key) as announced:
        with pytest.raises(RuntimeError), transaction.atomic():
            pg_listen.notify(FINISHED_CHANNEL, key)
            raise RuntimeError("the job's transaction failed")
        assert not announced.wait(1.0)


def test_a_waiter_is_woken_only_by_its_own_image():
    first, second = str(queued_image().pk), str(queued_image().pk)
    listener = pg_listen.listener(FINISHED_CHANNEL)
    with listener.waiting(first) as first_done, listener.waiting(second) as second_done:
        pg_listen.notify(FINISHED_CHANNEL, second)
        assert second_done.wait(5)
        assert not first_done.is_set()


def test_the_listener_reconnects_after_losing_its_connection_and_wakes_waiters_again(settings):
    """The database restarting (here: the listener's backend terminated) must not leave waiting
    calls to their slow polls for good: the listener reconnects and announcements arrive again."""
    settings.FACECORE_SYNC_POLL_INTERVAL = SLOW_POLL
    key = str(queued_image().pk)
    listener = pg_listen.listener(FINISHED_CHANNEL)
    with listener.waiting(key):
        pass  # LISTEN is in place
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()",
            [f'LISTEN "{FINISHED_CHANNEL}"'],
        )
        assert cursor.fetchone() == (True,)
    for _ in range(int((pg_listen.RECONNECT_SECONDS + 10) * 2)):  # until it is back
        with listener.waiting(key) as woken:
            pg_listen.notify(FINISHED_CHANNEL, key)
            if woken.wait(0.5):
                break
    with listener.waiting(key) as announced:  # registered after the reconnection
        pg_listen.notify(FINISHED_CHANNEL, key)
        assert announced.wait(5), "no announcement arrived after the listener lost its connection"
