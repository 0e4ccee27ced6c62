"""Fixtures for recognition tests: the pipeline's real services (S3 server, Redis broker, a
Celery worker in a thread, warm models), API clients of separate applications, small photos."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image as PILImage

from tests.factories import api_client


@pytest.fixture
def api(transactional_db, redis_worker):
    """An API client for a fresh application, with the worker running."""
    return api_client("app-one")


@pytest.fixture
def other_api(api):
    return api_client("app-two")


def small_jpeg(path: Path, max_side: int = 480) -> bytes:
    """The photo downscaled (tests stay quick; faces stay well above the minimum size)."""
    with PILImage.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((max_side, max_side))
        out = io.BytesIO()
        img.save(out, "JPEG", quality=90)
        return out.getvalue()


@pytest.fixture(scope="session")
def photos(shared_photos):
    """name -> small JPEG bytes of the deepface-pairs photos, e.g. ``photos("img1")``."""
    cache: dict[str, bytes] = {}

    def get(name: str) -> bytes:
        if name not in cache:
            cache[name] = small_jpeg(shared_photos / f"{name}.jpg")
        return cache[name]

    return get


def wait_done(client, image_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/images/{image_id}").json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.1)
    raise TimeoutError(f"image {image_id} not finished after {timeout}s")
