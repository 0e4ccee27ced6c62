"""Real parts for the CompreFace-compatible API: the API over HTTP (pytest-django's
live_server), a real Celery worker on Redis, the S3 server, the real models, and CompreFace's
own Python SDK (compreface-sdk 0.6.0) run in its own virtualenv.

Photos: ``../shared/datasets`` (skipped when absent; the README of each dataset says who is who),
downscaled to 480 px; tests that must run without them use scikit-image's astronaut.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import requests

from tests.client_venvs import client_python, run_client
from tests.conftest import REPO, jpeg, shared_dir
from tests.recognition.conftest import small_jpeg

SDK_VENV = Path(os.environ.get("FACECORE_TEST_SDK_VENV", REPO / ".venv-compreface-sdk"))
SDK_REQUIREMENTS = REPO / "requirements-compreface-sdk.txt"
SDK_CLIENT = Path(__file__).with_name("sdk_client.py")


def sdk_python() -> Path:
    """The SDK's virtualenv (``make compreface-sdk``), made here when it is missing."""
    return client_python(SDK_VENV, SDK_REQUIREMENTS)


@dataclass
class Server:
    """The live API as one application: its base URL and API key."""

    base: str
    key: str
    application: object

    def url(self, path: str) -> str:
        return self.base + path

    def headers(self, **extra: str) -> dict:
        return {"x-api-key": self.key, **extra}

    def post(self, path: str, data: bytes | None = None, field: str = "file", **kwargs) -> requests.Response:
        files = {field: ("photo.jpg", data, "image/jpeg")} if data is not None else kwargs.pop("files", None)
        return requests.post(self.url(path), headers=self.headers(), files=files, timeout=120, **kwargs)

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url(path), headers=self.headers(), timeout=120, **kwargs)


@dataclass
class Sdk:
    """Calls CompreFace's SDK against the live server, one process per call."""

    python: Path
    server: Server

    def __call__(self, service: str, call: str, *args, options: dict | None = None, **kwargs):
        host, port = self.server.base.rsplit(":", 1)
        spec = {
            "domain": host,
            "port": port,
            "key": self.server.key,
            "service": service,
            "options": options or {},
            "call": call,
            "args": [str(a) if isinstance(a, Path) else a for a in args],
            "kwargs": kwargs,
        }
        answer = run_client(self.python, SDK_CLIENT, spec)
        assert "result" in answer, answer
        return answer["result"]


@pytest.fixture(scope="session")
def sdk_venv_python() -> Path:
    return sdk_python()


@pytest.fixture
def server(redis_worker, live_server, pipeline_settings) -> Server:
    from tenants.keys import create_api_key
    from tenants.models import Application

    application = Application.objects.create(name="compreface-client")
    _, raw_key = create_api_key(application, "compreface")
    return Server(base=live_server.url, key=raw_key, application=application)


@pytest.fixture
def sdk(sdk_venv_python, server) -> Sdk:
    return Sdk(sdk_venv_python, server)


@pytest.fixture(scope="session")
def people(tmp_path_factory) -> Path:
    """face-recognition-examples as small JPEG files (obama.jpg, biden.jpg, two_people.jpg, ...)."""
    source = shared_dir() / "datasets" / "face-recognition-examples"
    if not (source / "labels.csv").is_file():
        pytest.skip(f"shared photos not found at {source} (set FACECORE_SHARED_DIR)")
    folder = tmp_path_factory.mktemp("people")
    for path in source.iterdir():
        if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
            (folder / f"{path.stem}.jpg").write_bytes(small_jpeg(path))
    (folder / "blank.jpg").write_bytes(jpeg(np.full((300, 300, 3), 128, np.uint8)))  # nobody
    return folder


@pytest.fixture(scope="session")
def pairs(shared_photos, tmp_path_factory) -> Path:
    """deepface-pairs as small JPEG files (img1.jpg ... couple.jpg)."""
    folder = tmp_path_factory.mktemp("pairs")
    for name in ("img1", "img6", "img8", "img10", "img26", "img27", "couple"):
        (folder / f"{name}.jpg").write_bytes(small_jpeg(shared_photos / f"{name}.jpg"))
    return folder
