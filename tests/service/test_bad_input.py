"""Bad input from outside (fast tier): each answers a 4xx JSON body with a stable code, and
nothing already stored changes."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from images.models import Face, Image
from recognition.models import Subject
from tests.fakes import RED, painted
from tests.requests import upload

PHOTO = painted([(40, 40, 80, RED)])


def snapshot() -> tuple:
    return (
        list(Image.objects.values_list("id", "status")),
        list(Face.objects.values_list("id", "subject_id")),
        list(Subject.objects.values_list("id", "name")),
    )


@pytest.fixture
def stored(api, tmp_path):
    """One processed upload and one subject with an example, to check that nothing changes."""
    api.post("/api/v1/images", {"image": upload(PHOTO)}, format="multipart")
    api.post(
        "/api/v1/subjects/alice/faces", {"image": upload(painted([(10, 10, 70, RED)]))}, format="multipart"
    )
    before = snapshot()
    objects = sorted(p.name for p in (tmp_path / "objects").rglob("*") if p.is_file())
    yield
    assert snapshot() == before, "a refused request changed what was stored"
    assert sorted(p.name for p in (tmp_path / "objects").rglob("*") if p.is_file()) == objects


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"]
    return body


@pytest.mark.parametrize("name", ["a\x00b", "bad\x07bell", "new\nline"])
def test_control_characters_in_a_subject_name_are_refused_everywhere(api, stored, name):
    refused(api.post("/api/v1/subjects", {"subject": name}, format="json"), 400, "invalid_subject")
    refused(api.put("/api/v1/subjects/alice", {"subject": name}, format="json"), 400, "invalid_subject")
    refused(api.get("/api/v1/faces", {"subject": name}), 400, "invalid_subject")
    quoted = name.replace("\x00", "%00").replace("\x07", "%07").replace("\n", "%0A")
    refused(api.delete(f"/api/v1/subjects/{quoted}"), 400, "invalid_subject")
    refused(api.put(f"/api/v1/subjects/{quoted}", {"subject": "x"}, format="json"), 400, "invalid_subject")
    response = api.post(f"/api/v1/subjects/{quoted}/faces", {"image": upload(PHOTO)}, format="multipart")
    refused(response, 400, "invalid_subject")


def test_a_nul_byte_in_a_stored_text_field_is_refused(api, stored):
    response = api.post(
        "/api/v1/images", {"image": upload(PHOTO), "request_id": "a\x00b"}, format="multipart"
    )
    refused(response, 400, "invalid_request")


def test_bodies_over_the_request_limit_are_413(api, stored, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    big = "x" * 5_000
    refused(api.post("/api/v1/images", {"image_base64": big}, format="json"), 413, "request_too_large")
    refused(
        api.post("/api/v1/subjects", f"subject={big}", content_type="application/x-www-form-urlencoded"),
        413,
        "request_too_large",
    )
    response = api.post("/api/v1/images", {"image": upload(PHOTO), "request_id": big}, format="multipart")
    refused(response, 413, "request_too_large")


def test_a_body_declared_larger_than_any_upload_is_refused_before_it_is_read(api, stored, settings):
    from dataclasses import replace

    settings.FACECORE_ENGINE = replace(settings.FACECORE_ENGINE, max_image_bytes=1_000)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = api.post("/api/v1/images", {"image": upload(b"\xff" * 10_000)}, format="multipart")
    refused(response, 413, "request_too_large")


def test_deeply_nested_json_is_a_400(api, stored):
    body = "[" * 100_000 + "]" * 100_000
    refused(api.post("/api/v1/images", body, content_type="application/json"), 400, "invalid_request")
    refused(
        api.post("/api/v1/subjects", '{"subject": ' + body + "}", content_type="application/json"),
        400,
        "invalid_request",
    )


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_unknown_api_paths_answer_json_for_every_method(service, method):
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/api/v1/no-such-thing", data="{}", content_type="application/json")
    refused(response, 404, "not_found")


def test_base64_with_line_breaks_or_the_url_safe_alphabet_is_accepted(api):
    for text in (base64.encodebytes(PHOTO).decode(), base64.urlsafe_b64encode(PHOTO).decode().rstrip("=")):
        response = api.post("/api/v1/images", {"image_base64": text}, format="json")
        assert response.status_code == 202, response.content
        assert api.get(response.json()["status_url"]).json()["face_count"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"det_prob_threshold": True},
        {"det_prob_threshold": "NaN"},
        {"limit": True},
        {"limit": 1001},
        {"prediction_count": False},
    ],
)
def test_options_of_the_wrong_type_or_out_of_bounds_are_refused(api, stored, body):
    payload = {"image_base64": base64.b64encode(PHOTO).decode(), **body}
    refused(api.post("/api/v1/images", payload, format="json"), 400, "invalid_request")
    refused(api.post("/api/v1/recognize", payload, format="json"), 400, "invalid_request")


def test_two_image_files_are_refused_not_last_wins(api, stored):
    response = api.post(
        "/api/v1/images", {"image": [upload(PHOTO, "a.png"), upload(PHOTO, "b.png")]}, format="multipart"
    )
    refused(response, 400, "invalid_request")


def test_a_webhook_the_address_policy_refuses_is_not_retried(api, receiver, settings):
    response = api.post(
        "/api/v1/images",
        {"image": upload(PHOTO), "callback_url": receiver.url("/hooks/refused")},
        format="multipart",
    )
    # Accepted at upload (private URLs allowed then); the policy changes before delivery.
    image_id = response.json()["image_id"]
    from images.models import WebhookDelivery
    from images.webhooks import deliver_due

    settings.FACECORE_ALLOW_PRIVATE_URLS = False
    delivery = WebhookDelivery.objects.get(image_id=image_id)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="pending", attempts=0)
    deliver_due(str(delivery.pk))
    deliver_due(str(delivery.pk))
    webhook = api.get(f"/api/v1/images/{image_id}").json()["webhook"]
    assert webhook["status"] == "refused"
    assert [a["error"].startswith("refused, not retried") for a in webhook["attempts"][-1:]] == [True]
    assert webhook["next_attempt_at"] is None
    assert json.loads(json.dumps(webhook))["event_id"] == str(delivery.pk)


@pytest.mark.parametrize("body", ["[null, null]", "null", "3.5", '"text"', "true"])
@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/api/v1/images"),
        ("post", "/api/v1/subjects"),
        ("put", "/api/v1/subjects/alice"),
        ("post", "/api/v1/subjects/alice/faces"),
        ("post", "/api/v1/recognize"),
        ("post", "/api/v1/verify"),
        ("post", "/api/v1/detect"),
        ("post", "/api/v1/clusters/1/assign"),
        ("post", "/api/v1/recognition/recognize"),
    ],
)
def test_a_json_body_that_is_not_an_object_is_a_400(api, stored, method, path, body):
    """Found by schemathesis against runall: these answered 500."""
    response = getattr(api, method)(path, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("invalid_request", 26)
