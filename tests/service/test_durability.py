"""Durable jobs (fast tier): PostgreSQL is the record of every piece of work, the broker only a
wake-up signal. Here the "broker" is the eager dispatcher, replaced by a failing or recording one
where a test needs a lost message; the real brokers and a killed worker are in tests/faults/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from images import pipeline, reconcile
from images.models import Image, ImageStatus, WebhookDelivery
from infra import dispatch
from tests.fakes import RED, painted
from tests.requests import upload

PHOTO = painted([(40, 40, 80, RED)])


def refuse(*args, **kwargs):
    raise ConnectionError("broker unreachable")


@pytest.fixture
def sent(monkeypatch):
    """Messages that reach the broker but are never delivered (a broker that loses them)."""
    messages: list[tuple[str, list]] = []
    monkeypatch.setattr(
        dispatch, "send", lambda task, args, queue, countdown=None: messages.append((task, args))
    )
    return messages


def upload_photo(api, **fields) -> str:
    response = api.post("/api/v1/images", {"image": upload(PHOTO), **fields}, format="multipart")
    assert response.status_code == 202, response.content
    return response.json()["image_id"]


def test_an_upload_is_accepted_while_the_broker_is_down_and_processed_when_it_is_back(api, monkeypatch):
    real_send = dispatch.send
    monkeypatch.setattr(dispatch, "send", refuse)
    image_id = upload_photo(api)
    assert api.get(f"/api/v1/images/{image_id}").json()["status"] == "queued"
    # The broker is back (the eager dispatcher). Not monkeypatch.undo(): that would also undo
    # the service fixture's fake engine and load TensorFlow in the fast tier.
    monkeypatch.setattr(dispatch, "send", real_send)
    Image.objects.filter(pk=image_id).update(enqueued_at=timezone.now() - timedelta(minutes=5))
    repairs = reconcile.run()
    assert repairs.lost_queued == 1
    assert api.get(f"/api/v1/images/{image_id}").json()["status"] == "done"


def test_a_finished_job_keeps_its_webhook_when_the_broker_is_down_at_that_moment(api, receiver, monkeypatch):
    real_send = dispatch.send

    def jobs_only(task, args, queue, countdown=None):
        if task == dispatch.DELIVER_WEBHOOK:
            raise ConnectionError("broker went away")
        real_send(task, args, queue, countdown)

    monkeypatch.setattr(dispatch, "send", jobs_only)
    image_id = upload_photo(api, callback_url=receiver.url("/hooks/outbox"))
    status = api.get(f"/api/v1/images/{image_id}").json()
    assert status["status"] == "done"
    assert status["webhook"]["status"] == "pending" and status["webhook"]["attempts"] == []
    monkeypatch.setattr(dispatch, "send", real_send)
    WebhookDelivery.objects.filter(image_id=image_id).update(enqueued_at=None)
    assert reconcile.run().webhooks == 1
    [hook] = receiver.wait_posts("/hooks/outbox", 1)
    assert hook.headers["X-Facecore-Event-Id"] == status["webhook"]["event_id"]
    assert api.get(f"/api/v1/images/{image_id}").json()["webhook"]["status"] == "delivered"


def test_every_attempt_of_a_webhook_carries_the_same_event_id(api, receiver):
    receiver.answers["/hooks/same-id"] = [500, 502]
    image_id = upload_photo(api, callback_url=receiver.url("/hooks/same-id"))
    hooks = receiver.wait_posts("/hooks/same-id", 3)
    event_id = api.get(f"/api/v1/images/{image_id}").json()["webhook"]["event_id"]
    assert {h.headers["X-Facecore-Event-Id"] for h in hooks} == {event_id}
    assert [h.headers["X-Facecore-Attempt"] for h in hooks] == ["1", "2", "3"]


def test_a_job_whose_worker_died_is_sent_again_after_its_lease(api, sent, settings):
    image_id = upload_photo(api)
    assert sent == [(dispatch.PROCESS_IMAGE, [image_id])]
    # A worker took it and died: processing, with a lease that ran out.
    Image.objects.filter(pk=image_id).update(
        status=ImageStatus.PROCESSING, deliveries=1, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    repairs = reconcile.run()
    assert repairs.expired_leases == 1
    assert sent[-1] == (dispatch.PROCESS_IMAGE, [image_id])
    assert Image.objects.get(pk=image_id).status == ImageStatus.QUEUED


def test_a_live_lease_is_left_alone_and_a_duplicate_message_skips_it(api, sent):
    image_id = upload_photo(api)
    Image.objects.filter(pk=image_id).update(
        status=ImageStatus.PROCESSING, deliveries=1, lease_expires_at=timezone.now() + timedelta(seconds=30)
    )
    assert reconcile.run().total() == 0
    pipeline.process(image_id)  # a duplicate of the message the live worker is working on
    image = Image.objects.get(pk=image_id)
    assert (image.status, image.deliveries) == (ImageStatus.PROCESSING, 1)


def test_queued_images_are_re_sent_only_when_the_broker_holds_fewer_messages(api, sent, monkeypatch):
    ids = [upload_photo(api) for _ in range(3)]
    Image.objects.update(enqueued_at=timezone.now() - timedelta(minutes=5))
    monkeypatch.setattr(dispatch, "queue_length", lambda queue: 3)
    assert reconcile.run().lost_queued == 0
    monkeypatch.setattr(dispatch, "queue_length", lambda queue: 1)  # two messages were lost
    assert reconcile.run().lost_queued == 2
    assert [args for _, args in sent[-2:]] == [[ids[0]], [ids[1]]]  # the oldest first


def test_a_transient_fault_shows_as_retrying_with_the_next_attempt_and_the_error(api, settings, tmp_path):
    settings.FACECORE_MAX_COUNTDOWN_SECONDS = -1  # every retry waits in the database (no eager re-run)
    broken = tmp_path / "not-a-folder"
    broken.write_bytes(b"")
    image_id = upload_photo(api)
    Image.objects.filter(pk=image_id).update(status=ImageStatus.QUEUED, deliveries=0)
    settings.FACECORE_OBJECTS_DIR = broken
    from worker.tasks import process_image

    process_image.apply(args=[image_id])
    status = api.get(f"/api/v1/images/{image_id}").json()
    assert status["status"] == "retrying"
    assert status["attempts"] == 1
    assert status["last_error"]["code"] == "storage_unavailable"
    assert status["next_attempt_at"] is not None and status["error"] is None


def test_retries_are_counted_in_the_database_so_lost_retry_messages_still_end(api, settings, tmp_path):
    settings.FACECORE_MAX_COUNTDOWN_SECONDS = -1
    settings.FACECORE_JOB_MAX_RETRIES = 2
    broken = tmp_path / "not-a-folder"
    broken.write_bytes(b"")
    image_id = upload_photo(api)
    Image.objects.filter(pk=image_id).update(status=ImageStatus.QUEUED, deliveries=0)
    settings.FACECORE_OBJECTS_DIR = broken
    from worker.tasks import process_image

    for _ in range(3):  # each a fresh message, as the reconciler sends (Celery's count restarts)
        process_image.apply(args=[image_id])
    image = Image.objects.get(pk=image_id)
    assert (image.status, image.error_code) == (ImageStatus.FAILED, "storage_unavailable")
    assert "after 2 retries" in image.error_message
