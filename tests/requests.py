"""Request helpers shared by the test tiers (DRF test clients of tests.factories.api_client)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile


def upload(data: bytes, name: str = "photo.jpg") -> SimpleUploadedFile:
    """A multipart file (the server sniffs the format; the name and type are only labels)."""
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def enrol(client, subject: str, data: bytes) -> dict:
    response = client.post(f"/api/v1/subjects/{subject}/faces", {"image": upload(data)}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def recognize(client, data: bytes, **options) -> dict:
    response = client.post("/api/v1/recognize", {"image": upload(data), **options}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def submit(client, data: bytes, **fields) -> dict:
    """POST /api/v1/images (multipart), then its status (with eager tasks the job has run)."""
    response = client.post("/api/v1/images", {"image": upload(data), **fields}, format="multipart")
    assert response.status_code in (200, 202), response.content
    return client.get(f"/api/v1/images/{response.json()['image_id']}").json()
