"""The fast tier: the whole service (HTTP API, jobs, recognition, webhooks) on the real
PostgreSQL, with Celery tasks run eagerly, a local-folder object store and the fake engine of
tests/fakes.py. No broker, no S3 server, no TensorFlow: ``make test-fast``."""

from __future__ import annotations

import pytest

import facecore.engine
from tests import factories
from tests.fakes import fake_engine
from tests.pipeline.services import http_files


@pytest.fixture
def service(transactional_db, settings, tmp_path, monkeypatch):
    """Eager tasks, a folder store, the fake engine; private URLs allowed (local receivers)."""
    from config.celery import app

    settings.S3_ENDPOINT = ""
    settings.FACECORE_OBJECTS_DIR = tmp_path / "objects"
    settings.FACECORE_ALLOW_PRIVATE_URLS = True
    settings.FACECORE_WEBHOOK_BACKOFF_SECONDS = 0
    monkeypatch.setattr(facecore.engine, "_engine", fake_engine(settings.FACECORE_ENGINE))
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def api(service):
    return factories.api_client("alpha")


@pytest.fixture
def other_api(service):
    return factories.api_client("beta")


@pytest.fixture(scope="session")
def receiver():
    """A local HTTP server that records webhook POSTs (and serves files for image_url)."""
    with http_files() as server:
        yield server
