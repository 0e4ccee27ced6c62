"""Fixtures for the end-to-end pipeline tests: real PostgreSQL + pgvector (pgserver), a real
S3 server (SeaweedFS), real brokers (Redis, RabbitMQ), the real engine and models, the API
served over HTTP by pytest-django's live_server, and a real Celery worker in a thread."""

from __future__ import annotations

import base64
import io
import os
import time
import uuid
from dataclasses import dataclass

import numpy as np
import pytest
import requests
from django.test import override_settings
from PIL import Image as PILImage

from tests.pipeline.services import celery_worker, http_files, seaweedfs

REDIS_URL = os.environ.get("FACECORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
AMQP_URL = os.environ.get("FACECORE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
JOB_TIMEOUT = 180.0
"""Generous upper bound for one job on a slow CI machine (not a speed assertion)."""


def jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- photos --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    data = pytest.importorskip("skimage.data", reason="scikit-image provides the packaged test photo")
    return data.astronaut()


@pytest.fixture(scope="session")
def face_jpeg(astronaut: np.ndarray) -> bytes:
    """One face, 512x512 (scikit-image's astronaut)."""
    return jpeg(astronaut)


@pytest.fixture(scope="session")
def two_faces_jpeg(astronaut: np.ndarray) -> bytes:
    """Two faces: the shared couple.jpg downscaled to 800 px when present, else two astronauts."""
    from tests.conftest import shared_dir

    couple = shared_dir() / "datasets" / "deepface-pairs" / "couple.jpg"
    if couple.is_file():
        img = PILImage.open(couple).convert("RGB")
        img.thumbnail((800, 800))
        return jpeg(np.asarray(img))
    return jpeg(np.concatenate([astronaut, astronaut[:, ::-1]], axis=1))


@pytest.fixture(scope="session")
def corrupt_jpeg(face_jpeg: bytes) -> bytes:
    """A valid JPEG header (passes the upload probe) with the pixel data cut off."""
    return face_jpeg[: len(face_jpeg) // 3]


# --- services ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def queue_names() -> dict[str, str]:
    """Per-session queue names, so parallel test runs on the same broker do not mix."""
    suffix = uuid.uuid4().hex[:8]
    return {"faces": f"test-faces-{suffix}", "webhooks": f"test-webhooks-{suffix}"}


@pytest.fixture(scope="session")
def pipeline_settings(s3_server, queue_names):
    """Store on the S3 server, short webhook back-off, loopback URLs allowed (local servers)."""
    override = override_settings(
        S3_ENDPOINT=s3_server.endpoint,
        S3_ACCESS_KEY=s3_server.access_key,
        S3_SECRET_KEY=s3_server.secret_key,
        S3_BUCKET=f"facecore-test-{uuid.uuid4().hex[:8]}",
        S3_SECURE=False,
        FACECORE_FACES_QUEUE=queue_names["faces"],
        FACECORE_WEBHOOKS_QUEUE=queue_names["webhooks"],
        FACECORE_WEBHOOK_BACKOFF_SECONDS=0.2,
        FACECORE_WEBHOOK_MAX_ATTEMPTS=4,
        FACECORE_WEBHOOK_TIMEOUT=5,
        FACECORE_ALLOW_PRIVATE_URLS=True,
        FACECORE_KEEP_ORIGINALS=True,
    )
    override.enable()
    yield
    override.disable()


@pytest.fixture(scope="session")
def warm_engine(face_jpeg):
    """The process-wide engine the worker uses, with its models loaded once for the session."""
    from facecore.engine import get_engine
    from facecore.fetch import weights_present

    engine = get_engine()
    model = engine.settings.default_model
    if not weights_present(model, engine.settings.models_dir):
        pytest.skip(f"{model} weights missing: run `python -m facecore models fetch {model}`")
    engine.analyze([face_jpeg])
    return engine


@pytest.fixture(scope="session")
def web():
    """Local HTTP server serving image URLs and receiving webhooks."""
    with http_files() as server:
        yield server


@pytest.fixture(scope="module")
def redis_worker(warm_engine, pipeline_settings, queue_names):
    from config.celery import app

    with celery_worker(app, REDIS_URL, list(queue_names.values())) as worker:
        yield worker


@pytest.fixture(scope="module")
def rabbitmq_worker(warm_engine, pipeline_settings, queue_names):
    from config.celery import app

    with celery_worker(app, AMQP_URL, list(queue_names.values())) as worker:
        yield worker


# --- API clients ---------------------------------------------------------------------------------


@dataclass
class Client:
    """Talks to the API over real HTTP as one application."""

    base: str
    key: str
    application: object

    def _headers(self, extra: dict | None = None) -> dict:
        return {"X-API-Key": self.key, **(extra or {})}

    def upload(self, image: bytes | None = None, **fields) -> requests.Response:
        files = {"image": ("photo.jpg", image, "image/jpeg")} if image is not None else None
        return requests.post(
            f"{self.base}/api/v1/images", headers=self._headers(), files=files, data=fields, timeout=60
        )

    def upload_json(self, **body) -> requests.Response:
        return requests.post(f"{self.base}/api/v1/images", headers=self._headers(), json=body, timeout=60)

    def upload_base64(self, image: bytes, **body) -> requests.Response:
        return self.upload_json(image_base64=base64.b64encode(image).decode(), **body)

    def get(self, image_id: str, **params) -> requests.Response:
        return requests.get(
            f"{self.base}/api/v1/images/{image_id}", headers=self._headers(), params=params, timeout=30
        )

    def annotated(self, image_id: str) -> requests.Response:
        return requests.get(
            f"{self.base}/api/v1/images/{image_id}/annotated", headers=self._headers(), timeout=30
        )

    def list(self, **params) -> requests.Response:
        return requests.get(f"{self.base}/api/v1/images", headers=self._headers(), params=params, timeout=30)

    def delete(self, image_id: str) -> requests.Response:
        return requests.delete(f"{self.base}/api/v1/images/{image_id}", headers=self._headers(), timeout=30)

    def wait(self, image_id: str, timeout: float = JOB_TIMEOUT) -> dict:
        """Poll the status endpoint until the job is done or failed."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.get(image_id).json()
            if body["status"] in ("done", "failed") or time.monotonic() > deadline:
                return body
            time.sleep(0.2)


def make_client(live_server, name: str) -> Client:
    from api.keys import create_api_key
    from api.models import Application

    application = Application.objects.create(name=name)
    _, raw_key = create_api_key(application, "test")
    return Client(base=live_server.url, key=raw_key, application=application)


@pytest.fixture
def client_factory(live_server, pipeline_settings):
    return lambda name: make_client(live_server, name)


@pytest.fixture
def api(redis_worker, client_factory) -> Client:
    """Client of application "alpha", with a worker consuming from Redis."""
    return client_factory("alpha")


@pytest.fixture
def object_store(pipeline_settings):
    from api.storage import get_store

    return get_store()


def stored_keys(store) -> list[str]:
    """Every object in the test bucket (empty when the bucket was never created)."""
    client = store.client
    if not client.bucket_exists(store.bucket):
        return []
    return [obj.object_name for obj in client.list_objects(store.bucket, recursive=True)]
