"""Session-wide test helpers shared by all test packages.

Django is configured by pytest-django (``DJANGO_SETTINGS_MODULE = config.settings`` in
pyproject.toml); with no DATABASE_URL the test database lives in the embedded pgserver
PostgreSQL (with pgvector) under FACECORE_DATA_DIR.
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import numpy as np
import pytest
from django.test import override_settings
from PIL import Image as PILImage

from tests.pipeline.services import celery_worker, seaweedfs

REPO = Path(__file__).resolve().parent.parent

# --- tiers ---------------------------------------------------------------------------------------
# The fast tier (``make test-fast``: pytest -m "not real_parts") needs no broker, no S3 server and
# no TensorFlow. Tests that need them are marked here, by the fixtures they use (transitively)
# or by their module; ``make test`` and CI run both tiers.

REAL_FIXTURES = {
    "s3_server", "redis_worker", "rabbitmq_worker", "warm_engine", "engine", "runall", "browser",
    "gunicorn_server",
}  # fmt: skip
REAL_MODULES = {
    "test_embedders", "test_fast_mtcnn", "test_mtcnn_package", "test_fetch", "test_cli", "test_onnx_runtime",
}  # fmt: skip


def fast_tier(config) -> bool:
    return config.option.markexpr == "not real_parts"


def pytest_ignore_collect(collection_path, config) -> bool | None:
    """In the fast tier, do not even import the modules that load TensorFlow at import time."""
    return True if fast_tier(config) and collection_path.stem in REAL_MODULES else None


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if REAL_FIXTURES & set(getattr(item, "fixturenames", ())) or module in REAL_MODULES:
            item.add_marker(pytest.mark.real_parts)


@pytest.fixture(scope="session", autouse=True)
def fast_tier_loads_no_tensorflow(request):
    """The fast tier must really be fast: it fails (an error at the last test's teardown, in
    every process of a ``-n`` run too) if anything loaded TensorFlow."""
    yield
    import sys

    if fast_tier(request.config) and "tensorflow" in sys.modules:
        pytest.fail("fast tier: TensorFlow was imported; mark that test real_parts", pytrace=False)


@pytest.fixture(autouse=True)
def no_listener_outlives_its_test():
    """A synchronous call starts a LISTEN connection (infra.pg_listen) that would otherwise keep
    the test database open when it is dropped."""
    yield
    from infra.pg_listen import stop_listeners

    stop_listeners()


def shared_dir() -> Path:
    """Read-only shared data (photos); FACECORE_SHARED_DIR, default ``<repo>/../shared``."""
    return Path(os.environ.get("FACECORE_SHARED_DIR", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_photos() -> Path:
    """The deepface-pairs folder; a test using it is skipped when the shared data is absent."""
    path = shared_dir() / "datasets" / "deepface-pairs"
    if not (path / "couple.jpg").is_file():
        pytest.skip(f"shared photos not found at {path} (set FACECORE_SHARED_DIR)")
    return path


# --- photos and services shared by the pipeline and recognition tests ---------------------------

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
    couple = shared_dir() / "datasets" / "deepface-pairs" / "couple.jpg"
    if couple.is_file():
        img = PILImage.open(couple).convert("RGB")
        img.thumbnail((800, 800))
        return jpeg(np.asarray(img))
    return jpeg(np.concatenate([astronaut, astronaut[:, ::-1]], axis=1))


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


@pytest.fixture(scope="module")
def redis_worker(warm_engine, pipeline_settings, queue_names):
    from config.celery import app

    with celery_worker(app, REDIS_URL, list(queue_names.values())) as worker:
        yield worker
