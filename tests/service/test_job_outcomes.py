"""How a job ends (fast tier): a failure is visible with its code in the status and the signed
webhook; webhook deliveries are retried until the receiver accepts, and every attempt shows."""

from __future__ import annotations

import hashlib
import hmac
import json

from images.models import Image, ImageStatus
from images.pipeline import max_deliveries
from tenants.models import Application
from tests.fakes import RED, painted
from tests.requests import submit, upload

PHOTO = painted([(40, 40, 80, RED)])


def signed_body(secret: str, received) -> dict:
    timestamp = received.headers["X-Facecore-Timestamp"]
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest("sha256=" + mac, received.headers["X-Facecore-Signature"])
    return json.loads(received.body)


def test_corrupt_pixels_fail_with_their_code_in_status_and_webhook(api, receiver):
    corrupt = PHOTO[: len(PHOTO) // 2]  # the header is intact, so the upload is accepted
    status = submit(api, corrupt, callback_url=receiver.url("/hooks/fast-corrupt"))
    assert status["status"] == "failed"
    assert status["error"]["code"] == "not_an_image"
    assert status["faces"] == []
    [hook] = receiver.wait_posts("/hooks/fast-corrupt", 1)
    body = signed_body(api.application.webhook_secret, hook)
    assert (body["status"], body["error"]["code"]) == ("failed", "not_an_image")
    assert hook.headers["X-Facecore-Event"] == "image.failed"
    assert api.get(f"/api/v1/images/{status['image_id']}/annotated").json()["code"] == "image_failed"


def test_webhook_is_retried_until_the_receiver_accepts(api, receiver):
    receiver.answers["/hooks/fast-flaky"] = [500, 503]
    response = api.post(
        "/api/v1/images",
        {"image": upload(PHOTO), "callback_url": receiver.url("/hooks/fast-flaky")},
        format="multipart",
    )
    image_id = response.json()["image_id"]
    hooks = receiver.wait_posts("/hooks/fast-flaky", 3)
    assert [h.answered for h in hooks] == [500, 503, 200]
    assert [h.headers["X-Facecore-Attempt"] for h in hooks] == ["1", "2", "3"]
    attempts = api.get(f"/api/v1/images/{image_id}").json()["webhook"]["attempts"]
    assert [(a["number"], a["status_code"]) for a in attempts] == [(1, 500), (2, 503), (3, 200)]


def test_a_job_that_keeps_killing_its_worker_fails_with_worker_lost(service):
    from worker.tasks import process_image

    image = Image.objects.create(
        application=Application.objects.create(name="crashy"),
        status=ImageStatus.PROCESSING,
        deliveries=max_deliveries(),
        object_key="images/never-read/original",
    )
    process_image.apply(args=[str(image.id)])
    image.refresh_from_db()
    assert (image.status, image.error_code) == (ImageStatus.FAILED, "worker_lost")
