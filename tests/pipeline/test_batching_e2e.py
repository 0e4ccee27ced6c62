"""Cross-job batching with the real engine, S3 server, Redis and a real worker: images queued
together go through the engine as one batch, each ends on its own, and the faces are the ones
the same photos get one at a time.

Job messages are held back while a test uploads (a slow broker), so the images wait ``queued``;
then one message is sent and its job takes the others with it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.test import override_settings

from infra import dispatch

pytestmark = pytest.mark.django_db(transaction=True)

PAIRS = ["img1.jpg", "img2.jpg", "img3.jpg", "img4.jpg", "couple.jpg"]


@pytest.fixture
def held(monkeypatch):
    """Job messages are recorded, not sent; ``release(image_id)`` sends one for real."""
    real_send = dispatch.send
    held: list[str] = []

    def send(task, args, queue, countdown=None):
        if task == dispatch.PROCESS_IMAGE and countdown is None:
            held.append(args[0])
        else:
            real_send(task, args, queue, countdown)

    monkeypatch.setattr(dispatch, "send", send)

    def release(image_id: str) -> None:
        from django.conf import settings

        real_send(dispatch.PROCESS_IMAGE, [image_id], settings.FACECORE_FACES_QUEUE)

    return release


@pytest.fixture(scope="module")
def pair_photos(shared_photos) -> list[bytes]:
    return [(shared_photos / name).read_bytes() for name in PAIRS]


def upload(api, photo: bytes, **fields) -> str:
    response = api.upload(photo, **fields)
    assert response.status_code == 202, response.text
    return response.json()["image_id"]


def test_a_corrupt_image_fails_alone_and_its_batch_mates_are_done(
    api, web, held, face_jpeg, two_faces_jpeg, corrupt_jpeg
):
    hook = "/hooks/batch-e2e"
    ids = [
        upload(api, photo, callback_url=web.url(hook)) for photo in (face_jpeg, corrupt_jpeg, two_faces_jpeg)
    ]
    held(ids[0])
    one, bad, two = (api.wait(image_id) for image_id in ids)
    assert (one["status"], len(one["faces"]), one["timings"]["batch_size"]) == ("done", 1, 2)
    assert (two["status"], len(two["faces"]), two["timings"]["batch_size"]) == ("done", 2, 2)
    assert (bad["status"], bad["error"]["code"]) == ("failed", "not_an_image")
    bodies = {json.loads(h.body)["image_id"]: json.loads(h.body) for h in web.wait_posts(hook, 3)}
    assert {i: (bodies[i]["status"], len(bodies[i]["faces"])) for i in ids} == {
        ids[0]: ("done", 1),
        ids[1]: ("failed", 0),
        ids[2]: ("done", 2),
    }
    assert [api.get(i).json()["attempts"] for i in ids] == [1, 1, 1]


def faces(status: dict) -> list[tuple[list[int], np.ndarray]]:
    return [
        ([f["box"][k] for k in ("x_min", "y_min", "x_max", "y_max")], np.asarray(f["embedding"]))
        for f in status["faces"]
    ]


def test_a_batch_finds_the_faces_and_embeddings_of_one_at_a_time(api, held, pair_photos):
    batched = [upload(api, photo) for photo in pair_photos]
    held(batched[0])
    batched = [api.wait(i) for i in batched]
    assert [s["timings"]["batch_size"] for s in batched] == [len(pair_photos)] * len(pair_photos)
    with override_settings(FACECORE_BATCH_SIZE=1):
        alone = [upload(api, photo) for photo in pair_photos]
        for image_id in alone:
            held(image_id)
        alone = [api.wait(i) for i in alone]
    assert [s["timings"]["batch_size"] for s in alone] == [1] * len(pair_photos)
    for together, single in zip(batched, alone, strict=True):
        together = api.get(together["image_id"], include="embedding").json()
        single = api.get(single["image_id"], include="embedding").json()
        assert together["status"] == single["status"] == "done"
        assert len(together["faces"]) == len(single["faces"]) > 0
        for (box_b, vec_b), (box_s, vec_s) in zip(faces(together), faces(single), strict=True):
            assert box_b == box_s
            np.testing.assert_allclose(vec_b, vec_s, atol=1e-4)
