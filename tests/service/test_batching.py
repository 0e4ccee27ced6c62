"""Cross-job batching (fast tier): a job takes other queued images with it through the engine,
and each still ends on its own. Job messages are held back (a slow broker) so images wait
``queued`` until a test runs one job; webhooks go through as usual."""

from __future__ import annotations

import json

import pytest

from images.models import Image, ImageStatus
from infra import dispatch
from infra.storage import StorageUnavailable
from tests.fakes import BLUE, GREEN, RED, painted
from tests.requests import upload

PHOTOS = [painted([(40, 40, 80, colour)]) for colour in (RED, GREEN, BLUE)]
CORRUPT = PHOTOS[0][: len(PHOTOS[0]) // 2]  # the header is intact, so the upload is accepted


@pytest.fixture
def held(monkeypatch):
    """Job messages are recorded, not delivered; ``run(image_id)`` delivers one."""
    real_send = dispatch.send
    messages: list[tuple[list, float | None]] = []

    def send(task, args, queue, countdown=None):
        if task == dispatch.PROCESS_IMAGE:
            messages.append((args, countdown))
        else:
            real_send(task, args, queue, countdown)

    monkeypatch.setattr(dispatch, "send", send)
    return messages


def run(image_id: str) -> None:
    from worker.tasks import process_image

    process_image.apply(args=[image_id])


def queue(api, photo: bytes, **fields) -> str:
    response = api.post("/api/v1/images", {"image": upload(photo), **fields}, format="multipart")
    assert response.status_code == 202, response.content
    return response.json()["image_id"]


def status(api, image_id: str) -> dict:
    return api.get(f"/api/v1/images/{image_id}").json()


def test_one_job_processes_the_queued_images_and_a_corrupt_one_fails_alone(api, held, receiver):
    hook = "/hooks/batch-mixed"
    ids = [
        queue(api, photo, callback_url=receiver.url(hook))
        for photo in (PHOTOS[0], CORRUPT, PHOTOS[1], PHOTOS[2])
    ]
    assert [status(api, i)["status"] for i in ids] == ["queued"] * 4
    run(ids[0])
    first, bad, *rest = (status(api, i) for i in ids)
    for done in (first, *rest):
        assert done["status"] == "done"
        assert len(done["faces"]) == 1
        assert done["timings"]["batch_size"] == 3  # the three good ones went to the engine together
    assert (bad["status"], bad["error"]["code"]) == ("failed", "not_an_image")
    bodies = [json.loads(post.body) for post in receiver.wait_posts(hook, 4)]
    bodies = {body["image_id"]: body for body in bodies}
    assert {i: bodies[i]["status"] for i in ids} == {
        ids[0]: "done",
        ids[1]: "failed",
        ids[2]: "done",
        ids[3]: "done",
    }
    # Their own messages come later and find them finished: nothing runs again.
    for image_id in ids[1:]:
        run(image_id)
    assert list(Image.objects.filter(pk__in=ids).values_list("deliveries", flat=True)) == [1] * 4
    assert len(receiver.posts(hook)) == 4


def test_a_batch_holds_at_most_batch_size_images_oldest_first(api, held, settings):
    settings.FACECORE_BATCH_SIZE = 2
    ids = [queue(api, photo) for photo in PHOTOS]
    run(ids[0])
    assert [status(api, i)["status"] for i in ids] == ["done", "done", "queued"]
    run(ids[2])
    assert status(api, ids[2])["timings"]["batch_size"] == 1


def test_batch_size_one_turns_batching_off(api, held, settings):
    settings.FACECORE_BATCH_SIZE = 1
    ids = [queue(api, photo) for photo in PHOTOS[:2]]
    run(ids[0])
    assert [status(api, i)["status"] for i in ids] == ["done", "queued"]


def test_images_started_before_are_never_batch_mates(api, held):
    """A redelivered image (its worker died) runs alone: it may be what killed the worker."""
    fresh, redelivered = queue(api, PHOTOS[0]), queue(api, PHOTOS[1])
    Image.objects.filter(pk=redelivered).update(deliveries=1)  # requeued by the reconciler
    run(fresh)
    assert [status(api, i)["status"] for i in (fresh, redelivered)] == ["done", "queued"]
    run(redelivered)
    assert status(api, redelivered)["status"] == "done"
    assert status(api, redelivered)["timings"]["batch_size"] == 1


def test_images_with_other_options_go_to_the_engine_in_their_own_batch(api, held):
    plain = [queue(api, photo) for photo in PHOTOS[:2]]
    strict = queue(api, PHOTOS[2], det_prob_threshold=0.99)
    run(plain[0])
    sizes = [status(api, i)["timings"]["batch_size"] for i in (*plain, strict)]
    assert sizes == [2, 2, 1]


def test_a_store_fault_of_a_batch_mate_retries_it_and_the_others_finish(api, held, monkeypatch):
    from infra.storage import LocalStore

    ids = [queue(api, photo) for photo in PHOTOS]
    unlucky = Image.objects.get(pk=ids[1]).object_key
    real_get = LocalStore.get

    def get(self, key):
        if key == unlucky:
            raise StorageUnavailable("object store unreachable")
        return real_get(self, key)

    monkeypatch.setattr(LocalStore, "get", get)
    held.clear()
    run(ids[0])
    statuses = [status(api, i) for i in ids]
    assert [s["status"] for s in statuses] == ["done", "retrying", "done"]
    assert statuses[1]["last_error"]["code"] == "storage_unavailable"
    [(args, countdown)] = held  # its own delayed retry message
    assert args == [ids[1]] and countdown is not None
    monkeypatch.setattr(LocalStore, "get", real_get)
    run(ids[1])
    assert status(api, ids[1])["status"] == "done"


def test_a_deleted_batch_mate_is_not_claimed(api, held):
    ids = [queue(api, photo) for photo in PHOTOS[:2]]
    assert api.delete(f"/api/v1/images/{ids[1]}").status_code == 200
    run(ids[0])
    assert status(api, ids[0])["timings"]["batch_size"] == 1
    assert not Image.objects.filter(pk=ids[1], status=ImageStatus.PROCESSING).exists()


def test_an_unreachable_store_retries_the_batch_after_one_failed_fetch(api, held, monkeypatch):
    from infra.storage import LocalStore, StoreUnreachable

    ids = [queue(api, photo) for photo in PHOTOS]
    fetches = []

    def get(self, key):
        fetches.append(key)
        raise StoreUnreachable("S3 endpoint unreachable")

    monkeypatch.setattr(LocalStore, "get", get)
    monkeypatch.setattr("worker.tasks.retry_later", lambda task, image_id, exc: None)  # eager: no loop
    held.clear()
    run(ids[0])
    assert len(fetches) == 1  # not one timeout per image
    mates = [status(api, i) for i in ids[1:]]
    assert [(m["status"], m["last_error"]["code"]) for m in mates] == [
        ("retrying", "storage_unavailable")
    ] * 2
    assert sorted(args[0] for args, _ in held) == sorted(ids[1:])  # each has its own retry message
