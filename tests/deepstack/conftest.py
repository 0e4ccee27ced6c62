"""Real parts for the DeepStack-compatible API: the API over HTTP (pytest-django's
live_server), a real Celery worker on Redis, the S3 server, the real models, and the clients
users have, unchanged: deepstack-python (Home Assistant's deepstack_face, Viseron) and
codeproject-ai-api (CodeProject.AI's own), run in their own virtualenv. Requests the clients
have no call for (delete, match) are sent as Blue Iris, Agent DVR and Node-RED send them:
multipart, the key as the form field ``api_key``.

Photos: face-recognition-examples from the shared datasets (``people``, skipped when absent).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.client_venvs import client_python, run_client
from tests.compreface.conftest import people  # noqa: F401 (the fixture, shared)
from tests.conftest import REPO

CLIENTS_VENV = Path(os.environ.get("FACECORE_TEST_DEEPSTACK_VENV", REPO / ".venv-deepstack-clients"))
CLIENTS_REQUIREMENTS = REPO / "requirements-deepstack-clients.txt"
CLIENT = Path(__file__).with_name("client.py")
KEYLESS = "deepstack-keyless"


@dataclass
class Vision:
    """The live server's /v1/vision/ API, as one keyed application and the keyless one."""

    base: str
    key: str
    python: Path

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.base.removeprefix("http://").rsplit(":", 1)
        return host, int(port)

    def client(self, client: str, call: str, *args, api_key: str | None = None, min_confidence=None):
        """One call of ``client`` (deepstack, codeprojectai); Paths are sent as their bytes."""
        ip, port = self.host_port
        spec = {
            "client": client,
            "ip": ip,
            "port": port,
            "api_key": self.key if api_key is None else api_key,
            "min_confidence": min_confidence,
            "call": call,
            "args": [f"@{a}" if isinstance(a, Path) else a for a in args],
        }
        return run_client(self.python, CLIENT, spec)

    def form(self, path: str, key: str | None = None, **fields) -> requests.Response:
        """POST as Blue Iris / Agent DVR / Node-RED do: multipart, files for Paths, ``api_key``
        (``key=None``: this application's key; ``""``: none)."""
        key = self.key if key is None else key
        files = {n: (v.name, v.read_bytes(), "image/jpeg") for n, v in fields.items() if isinstance(v, Path)}
        data = {n: v for n, v in fields.items() if not isinstance(v, Path)}
        if key:
            data["api_key"] = key
        return requests.post(f"{self.base}/v1/vision/{path}", data=data, files=files or None, timeout=120)


@pytest.fixture(scope="session")
def clients_python() -> Path:
    """The clients' virtualenv (``make deepstack-clients``), made here when it is missing."""
    return client_python(CLIENTS_VENV, CLIENTS_REQUIREMENTS)


@pytest.fixture
def vision(redis_worker, live_server, pipeline_settings, clients_python, settings) -> Vision:
    from tenants.keys import create_api_key
    from tenants.models import Application

    settings.FACECORE_DEEPSTACK_APPLICATION = KEYLESS
    application = Application.objects.create(name="deepstack-client")
    _, raw_key = create_api_key(application, "deepstack")
    return Vision(base=live_server.url, key=raw_key, python=clients_python)
