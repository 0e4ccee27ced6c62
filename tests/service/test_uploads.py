"""Uploading images (fast tier): each input form ends done with its faces, a request_id is
idempotent, applications are isolated, delete removes everything, and bad input is refused
with a stable code before anything is stored."""

from __future__ import annotations

import base64

import pytest

from images.models import Face, Image
from infra.storage import get_store
from tests.fakes import BLUE, RED, painted
from tests.requests import submit, upload

TWO_PEOPLE = painted([(20, 20, 60, RED), (150, 40, 80, BLUE)])


def test_multipart_upload_is_processed_with_faces_largest_first(api):
    status = submit(api, TWO_PEOPLE, request_id="photo-1")
    assert status["status"] == "done", status
    assert status["error"] is None
    assert (status["width"], status["height"]) == (320, 240)
    assert [f["box"] for f in status["faces"]] == [
        {"x_min": 150, "y_min": 40, "x_max": 230, "y_max": 120},
        {"x_min": 20, "y_min": 20, "x_max": 80, "y_max": 80},
    ]
    assert set(status["faces"][0]["landmarks"]) == {
        "left_eye",
        "right_eye",
        "nose",
        "mouth_left",
        "mouth_right",
    }
    assert {"queued", "fetch", "decode", "detect", "embed", "save", "match", "total"} <= set(
        status["timings"]
    )
    assert get_store().get(f"images/{status['image_id']}/original") == TWO_PEOPLE
    with_embedding = api.get(f"/api/v1/images/{status['image_id']}", {"include": "embedding"}).json()
    assert with_embedding["model"] == "facenet"
    assert len(with_embedding["faces"][0]["embedding"]) == 128


def test_base64_and_url_uploads(api, receiver):
    body = {"image_base64": "data:image/png;base64," + base64.b64encode(TWO_PEOPLE).decode()}
    response = api.post("/api/v1/images", body, format="json")
    assert response.status_code == 202, response.content
    assert api.get(response.json()["status_url"]).json()["face_count"] == 2

    receiver.files["/two.png"] = (200, {"Content-Type": "image/png"}, TWO_PEOPLE)
    response = api.post("/api/v1/images", {"image_url": receiver.url("/two.png"), "limit": 1}, format="json")
    assert response.status_code == 202, response.content
    status = api.get(response.json()["status_url"]).json()
    assert status["face_count"] == 1 and status["options"]["limit"] == 1


def test_same_request_id_returns_the_same_image(api):
    first = api.post("/api/v1/images", {"image": upload(TWO_PEOPLE), "request_id": "r-1"}, format="multipart")
    again = api.post("/api/v1/images", {"image": upload(TWO_PEOPLE), "request_id": "r-1"}, format="multipart")
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["image_id"] == again.json()["image_id"]
    assert Image.objects.count() == 1


def test_applications_see_only_their_own_images(api, other_api):
    image_id = submit(api, TWO_PEOPLE)["image_id"]
    for response in (
        other_api.get(f"/api/v1/images/{image_id}"),
        other_api.get(f"/api/v1/images/{image_id}/annotated"),
        other_api.delete(f"/api/v1/images/{image_id}"),
    ):
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "Not found."}
    assert other_api.get("/api/v1/images").json()["count"] == 0


def test_delete_removes_the_original_faces_and_embeddings(api):
    image_id = submit(api, TWO_PEOPLE)["image_id"]
    assert Face.objects.filter(image_id=image_id).count() == 2
    deleted = api.delete(f"/api/v1/images/{image_id}")
    # 200 with what went (it was 204 with no body before issue #10).
    assert deleted.status_code == 200
    assert deleted.json() == {"image_id": image_id, "deleted_faces": 2, "subjects": []}
    assert not get_store().exists(f"images/{image_id}/original")
    assert not Face.objects.filter(image_id=image_id).exists()
    assert api.get(f"/api/v1/images/{image_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "fmt", "status", "code"),
    [
        ({}, "json", 400, "missing_image"),
        ({"image_base64": "not base64!"}, "json", 400, "invalid_base64"),
        ({"image_base64": base64.b64encode(b"hello, text").decode()}, "json", 400, "not_an_image"),
        ({"image_base64": base64.b64encode(b"%PDF-1.4 x").decode()}, "json", 415, "unsupported_format"),
        ({"image_url": "file:///etc/passwd"}, "json", 400, "bad_url"),
        ({"image": "a string, not a file"}, "json", 400, "invalid_request"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(api, body, fmt, status, code):
    response = api.post("/api/v1/images", body, format=fmt)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code and response.json()["message"]
    assert not Image.objects.exists()


def test_options_are_validated(api):
    response = api.post(
        "/api/v1/images",
        {"image": upload(TWO_PEOPLE), "limit": "-1", "det_prob_threshold": "2"},
        format="multipart",
    )
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"limit", "det_prob_threshold"}
    assert not Image.objects.exists()


def test_too_large_for_the_configured_limits(api, settings):
    from dataclasses import replace

    settings.FACECORE_ENGINE = replace(settings.FACECORE_ENGINE, max_image_bytes=100)
    response = api.post("/api/v1/images", {"image": upload(TWO_PEOPLE)}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (413, "image_too_large")
    settings.FACECORE_ENGINE = replace(settings.FACECORE_ENGINE, max_image_bytes=10**7, max_image_pixels=1000)
    response = api.post("/api/v1/images", {"image": upload(TWO_PEOPLE)}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (413, "too_many_pixels")
    assert not Image.objects.exists()
