"""Small request helpers of the fast tier."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile


def upload(data: bytes, name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def submit(client, data: bytes, **fields) -> dict:
    """POST /api/v1/images (multipart); with eager tasks the job has run when this returns."""
    response = client.post("/api/v1/images", {"image": upload(data), **fields}, format="multipart")
    assert response.status_code in (200, 202), response.content
    return client.get(f"/api/v1/images/{response.json()['image_id']}").json()
