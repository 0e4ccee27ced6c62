"""Job outcomes through HTTP and a real worker: failures, webhooks with retries, privacy."""

from __future__ import annotations

import hashlib
import hmac
import io
import json

import pytest
from PIL import Image as PILImage

from images.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


def verify_signature(secret: str, received) -> dict:
    """What a receiver does (see docs/api.md): recompute the HMAC and compare in constant time."""
    timestamp = received.headers["X-Facecore-Timestamp"]
    expected = (
        "sha256="
        + hmac.new(secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    )
    assert hmac.compare_digest(expected, received.headers["X-Facecore-Signature"])
    return json.loads(received.body)


def test_corrupt_image_fails_with_code_in_status_and_webhook(api, web, corrupt_jpeg):
    response = api.upload(corrupt_jpeg, callback_url=web.url("/hooks/corrupt"))
    assert response.status_code == 202, response.text  # the header is fine, so the upload is accepted
    image_id = response.json()["image_id"]

    status = api.wait(image_id)
    assert status["status"] == "failed"
    assert status["error"]["code"] == "not_an_image"
    assert status["error"]["message"]
    assert status["faces"] == []

    [hook] = web.wait_posts("/hooks/corrupt", 1)
    body = verify_signature(api.application.webhook_secret, hook)
    assert body["image_id"] == image_id
    assert body["status"] == "failed"
    assert body["error"]["code"] == "not_an_image"
    assert hook.headers["X-Facecore-Event"] == "image.failed"
    assert api.annotated(image_id).json()["code"] == "image_failed"


def test_webhook_is_retried_until_the_receiver_accepts(api, web, two_faces_jpeg):
    web.answers["/hooks/flaky"] = [500, 503]
    response = api.upload(two_faces_jpeg, callback_url=web.url("/hooks/flaky"))
    image_id = response.json()["image_id"]

    hooks = web.wait_posts("/hooks/flaky", 3)
    assert [h.answered for h in hooks] == [500, 503, 200]
    bodies = [verify_signature(api.application.webhook_secret, h) for h in hooks]
    for body in bodies:
        assert body["image_id"] == image_id
        assert body["status"] == "done"
        assert len(body["faces"]) == 2
    assert [h.headers["X-Facecore-Attempt"] for h in hooks] == ["1", "2", "3"]

    # Every attempt is recorded and shown in the status endpoint.
    status = api.get(image_id).json()
    assert status["faces"] == bodies[-1]["faces"]
    attempts = status["webhook"]["attempts"]
    assert [(a["number"], a["status_code"]) for a in attempts] == [(1, 500), (2, 503), (3, 200)]
    assert attempts[0]["error"] == "HTTP 500"
    assert attempts[2]["error"] is None
    assert status["webhook"]["callback_url"] == web.url("/hooks/flaky")


def test_webhook_gives_up_after_max_attempts(api, web, face_jpeg, settings):
    settings.FACECORE_WEBHOOK_MAX_ATTEMPTS = 2
    web.answers["/hooks/down"] = [500, 500, 500]
    image_id = api.upload(face_jpeg, callback_url=web.url("/hooks/down")).json()["image_id"]
    web.wait_posts("/hooks/down", 2)
    # A later job's webhook arrives after any third attempt would have been sent.
    later = api.upload(face_jpeg, callback_url=web.url("/hooks/after")).json()["image_id"]
    web.wait_posts("/hooks/after", 1)
    assert len(web.posts("/hooks/down")) == 2
    assert [a["status_code"] for a in api.get(image_id).json()["webhook"]["attempts"]] == [500, 500]
    assert api.get(later).json()["status"] == "done"


def test_without_kept_originals_the_original_is_deleted_and_a_preview_kept(
    api, face_jpeg, object_store, settings
):
    settings.FACECORE_KEEP_ORIGINALS = False
    image_id = api.upload(face_jpeg).json()["image_id"]
    status = api.wait(image_id)
    assert status["status"] == "done"
    assert status["original_deleted"] is True
    assert len(status["faces"]) == 1
    assert not object_store.exists(f"images/{image_id}/original")

    annotated = api.annotated(image_id)
    assert annotated.status_code == 200
    assert PILImage.open(io.BytesIO(annotated.content)).format == "JPEG"

    crop = f"faces/{status['faces'][0]['face_id']}/crop.jpg"
    assert object_store.exists(crop)  # thumbnails for the review pages, kept with the preview

    assert api.delete(image_id).status_code == 200
    assert not object_store.exists(f"images/{image_id}/annotated.jpg")
    assert not object_store.exists(crop)


def test_storage_outage_is_retried_then_fails_visibly(api, face_jpeg, settings, tmp_path, monkeypatch):
    """The worker cannot read the store (a path that is a file, not a folder): the job retries
    with backoff, then ends failed with ``storage_unavailable``."""
    from infra.storage import original_key
    from worker.tasks import process_image

    settings.FACECORE_JOB_MAX_RETRIES = 1
    broken = tmp_path / "not-a-folder"
    broken.write_bytes(b"")
    settings.S3_ENDPOINT = ""
    settings.FACECORE_OBJECTS_DIR = broken
    image = Image.objects.create(application=api.application, format="JPEG", size_bytes=len(face_jpeg))
    image.object_key = original_key(image.id)
    image.save()
    process_image.apply_async(args=[str(image.id)], queue=settings.FACECORE_FACES_QUEUE)

    status = api.wait(str(image.id))
    assert status["status"] == "failed"
    assert status["error"]["code"] == "storage_unavailable"
    assert "after 1 retries" in status["error"]["message"]


@pytest.mark.shared_data
def test_limit_keeps_the_largest_faces(api, shared_photos):
    photo = (shared_photos / "selfie-many-people.jpg").read_bytes()
    everyone = api.wait(api.upload(photo).json()["image_id"])
    two = api.wait(api.upload(photo, limit="2").json()["image_id"])
    assert everyone["status"] == two["status"] == "done"
    assert len(everyone["faces"]) > 2
    assert [f["box"] for f in two["faces"]] == [f["box"] for f in everyone["faces"][:2]]
