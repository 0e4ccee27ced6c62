"""The Django admin pages render, and a new API key is shown once and works."""

from __future__ import annotations

import pytest

from images.models import Face, Image, WebhookAttempt
from tenants.keys import create_api_key, hash_key
from tenants.models import ApiKey, Application

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample(settings, tmp_path):
    settings.S3_ENDPOINT = ""
    settings.FACECORE_OBJECTS_DIR = tmp_path / "objects"
    application = Application.objects.create(name="admin-app")
    create_api_key(application, "k")
    image = Image.objects.create(application=application, status="done", original_deleted=True)
    Face.objects.create(
        application=application, image=image, x_min=1, y_min=2, x_max=30, y_max=40, probability=0.99,
        landmarks={}, embedding=[0.0] * 127 + [1.0], model="facenet",
    )  # fmt: skip
    WebhookAttempt.objects.create(image=image, number=1, status_code=500, error="HTTP 500")
    return application, image


def test_admin_pages_render(admin_client, sample):
    application, image = sample
    for url in (
        "/admin/tenants/application/",
        f"/admin/tenants/application/{application.pk}/change/",
        "/admin/tenants/apikey/",
        "/admin/images/image/",
        f"/admin/images/image/{image.pk}/change/",
        "/admin/images/face/",
        f"/admin/images/face/{image.faces.first().pk}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    page = admin_client.get(f"/admin/images/image/{image.pk}/change/").content.decode()
    assert "HTTP 500" in page  # webhook attempts inline
    assert "original deleted, no preview kept" in page


def test_admin_creates_a_key_and_shows_it_once(admin_client, sample):
    application, _ = sample
    response = admin_client.post(
        "/admin/tenants/apikey/add/", {"application": application.pk, "name": "from-admin"}, follow=True
    )
    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"] if "shown only this once" in str(m)]
    raw_key = message.rsplit(" ", 1)[-1]
    key = ApiKey.objects.get(name="from-admin")
    assert key.key_hash == hash_key(raw_key)
    assert key.prefix == raw_key[:8]
    assert raw_key not in admin_client.get(f"/admin/tenants/apikey/{key.pk}/change/").content.decode()


def test_create_api_key_command_prints_a_working_key(capsys):
    from django.core.management import call_command

    call_command("create_api_key", "cli-app")
    raw_key = capsys.readouterr().out.strip()
    key = ApiKey.objects.get(key_hash=hash_key(raw_key))
    assert key.application.name == "cli-app"


def test_openapi_schema_and_docs_need_no_key(client):
    schema = client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/images", "/api/v1/images/{image_id}", "/api/v1/images/{image_id}/annotated"} <= set(
        paths
    )
    assert schema.json()["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == "X-API-Key"
    assert client.get("/api/docs").status_code == 200


def test_unknown_api_paths_answer_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
