"""Bad uploads get a 4xx with a stable code at once, and nothing is stored or enqueued."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
import requests

from images.models import Image
from tenants.models import ApiKey
from tests.pipeline.conftest import stored_keys

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def client(client_factory):
    """No worker: a refused upload must never reach one."""
    return client_factory("alpha")


def assert_refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    return body


@pytest.fixture
def nothing_stored(object_store):
    before = stored_keys(object_store)
    yield
    assert Image.objects.count() == 0
    assert stored_keys(object_store) == before


def test_missing_image(client, nothing_stored):
    assert_refused(client.upload_json(request_id="x"), 400, "missing_image")
    assert_refused(client.upload(None, limit="1"), 400, "missing_image")


def test_not_an_image(client, nothing_stored):
    assert_refused(client.upload(b"hello, this is text and not a photo"), 400, "not_an_image")
    assert_refused(client.upload_base64(b"\x00" * 64), 400, "not_an_image")


def test_unsupported_format(client, nothing_stored):
    assert_refused(client.upload(PDF), 415, "unsupported_format")


def test_image_too_large(client, face_jpeg, settings, nothing_stored):
    settings.FACECORE_ENGINE = replace(settings.FACECORE_ENGINE, max_image_bytes=10000)
    assert_refused(client.upload(face_jpeg), 413, "image_too_large")
    assert_refused(client.upload_base64(face_jpeg), 413, "image_too_large")


def test_too_many_pixels(client, face_jpeg, settings, nothing_stored):
    settings.FACECORE_ENGINE = replace(settings.FACECORE_ENGINE, max_image_pixels=256 * 256)
    body = assert_refused(client.upload(face_jpeg), 413, "too_many_pixels")
    assert "65536" in body["message"]


def test_invalid_base64(client, nothing_stored):
    assert_refused(client.upload_json(image_base64="not base64 at all!"), 400, "invalid_base64")


def test_invalid_options(client, face_jpeg, nothing_stored):
    body = assert_refused(
        client.upload(face_jpeg, limit="-1", det_prob_threshold="2"), 400, "invalid_request"
    )
    assert set(body["details"]) == {"limit", "det_prob_threshold"}
    body = assert_refused(client.upload(face_jpeg, callback_url="not a url"), 400, "invalid_request")
    assert "callback_url" in body["details"]
    two_sources = client.upload_json(
        image_base64=base64.b64encode(face_jpeg).decode(), image_url="http://x.test/a"
    )
    assert_refused(two_sources, 400, "invalid_request")


def test_bad_url(client, web, nothing_stored):
    web.files["/loop"] = (302, {"Location": "/loop"}, b"")
    web.files["/ftp"] = (302, {"Location": "ftp://127.0.0.1/x.jpg"}, b"")
    for url in (
        web.url("/does-not-exist"),  # 404
        web.url("/loop"),  # too many redirects
        web.url("/ftp"),  # redirect to a refused scheme
        "file:///etc/passwd",
        "http://no-such-host.invalid/x.jpg",
    ):
        assert_refused(client.upload_json(image_url=url), 400, "bad_url")


def test_private_addresses_refused_unless_allowed(client, web, face_jpeg, settings, nothing_stored):
    settings.FACECORE_ALLOW_PRIVATE_URLS = False
    web.files["/astronaut.jpg"] = (200, {}, face_jpeg)
    for host in ("127.0.0.1", "localhost"):
        body = assert_refused(client.upload_json(image_url=web.url("/astronaut.jpg", host)), 400, "bad_url")
        assert "private" in body["message"]
    for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x.jpg", "http://[::1]/x.jpg"):
        assert_refused(client.upload_json(image_url=url), 400, "bad_url")
    callback = client.upload(face_jpeg, callback_url=web.url("/hook"))
    assert_refused(callback, 400, "bad_url")


def test_auth_errors(client, live_server, face_jpeg, nothing_stored):
    url = f"{live_server.url}/api/v1/images"
    assert_refused(requests.post(url, files={"image": face_jpeg}, timeout=30), 401, "unauthorized")
    assert_refused(requests.get(url, headers={"X-API-Key": "fc_wrong"}, timeout=30), 401, "unauthorized")
    ApiKey.objects.update(revoked=True)
    assert_refused(client.list(), 401, "unauthorized")


def test_unknown_image_is_not_found(client, nothing_stored):
    for image_id in ("7d3c6b1e-8f1a-4b4e-9a53-3f1f9b0e2a11", "not-a-uuid"):
        assert_refused(client.get(image_id), 404, "not_found")
