"""Fixtures for the end-to-end pipeline tests: real PostgreSQL + pgvector (pgserver), a real
S3 server (SeaweedFS), real brokers (Redis, RabbitMQ), the real engine and models, the API
served over HTTP by pytest-django's live_server, and a real Celery worker in a thread."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import pytest
import requests

from tests.conftest import AMQP_URL, JOB_TIMEOUT, jpeg  # noqa: F401 (used by test modules)
from tests.pipeline.services import celery_worker, http_files


@pytest.fixture(scope="session")
def corrupt_jpeg(face_jpeg: bytes) -> bytes:
    """A valid JPEG header (passes the upload probe) with the pixel data cut off."""
    return face_jpeg[: len(face_jpeg) // 3]


# --- services ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def web():
    """Local HTTP server serving image URLs and receiving webhooks."""
    with http_files() as server:
        yield server


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
    from tenants.keys import create_api_key
    from tenants.models import Application

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
    from infra.storage import get_store

    return get_store()


def stored_keys(store) -> list[str]:
    """Every object in the test bucket (empty when the bucket was never created)."""
    client = store.client
    if not client.bucket_exists(store.bucket):
        return []
    return [obj.object_name for obj in client.list_objects(store.bucket, recursive=True)]
