"""Fixtures of the fault-injection suite: a whole service (the API over HTTP, a real Celery
worker process group with beat, a private broker, a private S3 server, a webhook receiver) with
short leases and reconciler intervals, and a report of what each scenario counted."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
import requests
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from images.models import WorkerHeartbeat
from tests.faults.services import RabbitNode, RedisServer, Worker
from tests.pipeline.services import EmbeddedBroker, HttpServer, SeaweedFS, use_broker

REPORT: list[str] = []

FAST_RECOVERY = {
    "FACECORE_JOB_LEASE_SECONDS": 6,
    "FACECORE_RECONCILE_INTERVAL": 1,
    "FACECORE_REQUEUE_AFTER_SECONDS": 3,
    "FACECORE_MAX_COUNTDOWN_SECONDS": 5,
    "FACECORE_HEARTBEAT_SECONDS": 1,
    "FACECORE_JOB_MAX_RETRIES": 10,
    "FACECORE_JOB_RETRY_BACKOFF_MAX": 4,
    "FACECORE_WEBHOOK_BACKOFF_SECONDS": 0.5,
    "FACECORE_WEBHOOK_MAX_ATTEMPTS": 50,
    "FACECORE_WEBHOOK_TIMEOUT": 3,
    "FACECORE_ALLOW_PRIVATE_URLS": True,
    "FACECORE_KEEP_ORIGINALS": True,
}
"""The defaults scaled down so each scenario recovers in seconds. With FACECORE_FAULTS_DEFAULT_TIMINGS=1
the lease, reconciler and requeue timings keep their defaults (docs/api.md's recovery times)."""
if os.environ.get("FACECORE_FAULTS_DEFAULT_TIMINGS") == "1":
    for _name in (
        "FACECORE_JOB_LEASE_SECONDS",
        "FACECORE_RECONCILE_INTERVAL",
        "FACECORE_REQUEUE_AFTER_SECONDS",
    ):
        del FAST_RECOVERY[_name]


def pytest_terminal_summary(terminalreporter) -> None:
    if REPORT:
        terminalreporter.section("fault injection: sent / done / stuck / duplicated / webhooks")
        for line in REPORT:
            terminalreporter.write_line(line)


def database_url() -> str:
    """The test database, for the worker processes (the embedded server's socket folder)."""
    connection.ensure_connection()
    s = connection.settings_dict
    host = quote(str(s["HOST"]), safe="") if str(s["HOST"]).startswith("/") else s["HOST"]
    port = f":{s['PORT']}" if s.get("PORT") else ""
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{host}{port}/{s['NAME']}"


@dataclass
class Stack:
    base: str
    key: str
    application: object
    broker: RedisServer | RabbitNode
    s3: SeaweedFS
    receiver: HttpServer
    worker_env: dict[str, str]
    queues: list[str]
    workdir: object
    workers: list[Worker] = field(default_factory=list)

    def start_worker(self) -> Worker:
        worker = Worker(self.workdir, self.worker_env, self.queues)
        worker.start()
        self.workers.append(worker)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            fresh = timezone.now() - timezone.timedelta(seconds=3)
            if WorkerHeartbeat.objects.filter(
                hostname__startswith="fault-test-", last_seen_at__gte=fresh
            ).exists():
                return worker
            if worker.process.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError("the worker did not come up:\n" + worker.log_tail())

    def upload(self, data: bytes, hook: str) -> str:
        response = requests.post(
            f"{self.base}/api/v1/images",
            headers={"X-API-Key": self.key},
            files={"image": ("photo.jpg", data, "image/jpeg")},
            data={"callback_url": self.receiver.state.url(hook)},
            timeout=60,
        )
        assert response.status_code == 202, response.text
        return response.json()["image_id"]

    def status(self, image_id: str) -> dict:
        response = requests.get(
            f"{self.base}/api/v1/images/{image_id}", headers={"X-API-Key": self.key}, timeout=30
        )
        return response.json()


def stack_for(kind: str, live_server, tmp_path_factory):
    from config.celery import app
    from tenants.keys import create_api_key
    from tenants.models import Application

    workdir = tmp_path_factory.mktemp(f"faults-{kind}")
    brokers = {"redis": RedisServer, "embedded": EmbeddedBroker, "rabbitmq": RabbitNode}
    broker = brokers[kind](workdir)
    broker.start(timeout=90)
    s3 = SeaweedFS(workdir)
    s3.start()
    receiver = HttpServer()
    receiver.start()
    suffix = uuid.uuid4().hex[:8]
    queues = [f"fault-faces-{suffix}", f"fault-webhooks-{suffix}"]
    bucket = f"faults-{suffix}"
    overrides = {
        **FAST_RECOVERY,
        "S3_ENDPOINT": s3.endpoint,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "S3_BUCKET": bucket,
        "S3_SECURE": False,
        "FACECORE_FACES_QUEUE": queues[0],
        "FACECORE_WEBHOOKS_QUEUE": queues[1],
    }
    worker_env = {
        **{
            name: str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in overrides.items()
        },
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker.url,
        "FACECORE_DATA_DIR": str(workdir / "data"),
        "DJANGO_SECRET_KEY": "fault-tests-" + suffix,
        "FACECORE_LOG_LEVEL": "INFO",
    }
    previous_broker = os.environ.get("CELERY_BROKER_URL")
    use_broker(app, broker.url)
    settings_override = override_settings(**overrides)
    settings_override.enable()
    application = Application.objects.create(name=f"faults-{kind}")
    _, raw_key = create_api_key(application, "faults")
    stack = Stack(live_server.url, raw_key, application, broker, s3, receiver, worker_env, queues, workdir)
    return stack, lambda: _tear_down(stack, settings_override, app, previous_broker)


def _tear_down(stack: Stack, settings_override, app, previous_broker: str | None) -> None:
    for worker in stack.workers:
        worker.stop(kill=True)
    stack.receiver.stop()
    stack.s3.stop()
    stack.broker.stop()
    if isinstance(stack.broker, RabbitNode):
        stack.broker.remove()
    settings_override.disable()
    if previous_broker is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = previous_broker
    connection.close()


@pytest.fixture
def redis_stack(transactional_db, live_server, tmp_path_factory, warm_engine):
    stack, tear_down = stack_for("redis", live_server, tmp_path_factory)
    yield stack
    tear_down()


@pytest.fixture
def embedded_stack(transactional_db, live_server, tmp_path_factory, warm_engine):
    """The embedded default's broker under the same faults as the production brokers."""
    stack, tear_down = stack_for("embedded", live_server, tmp_path_factory)
    yield stack
    tear_down()


@pytest.fixture
def rabbitmq_stack(transactional_db, live_server, tmp_path_factory, warm_engine):
    from tests.faults.services import rabbitmq_available

    if not rabbitmq_available():
        pytest.skip("a private RabbitMQ node needs rabbitmq-server and root (Debian's script switches user)")
    stack, tear_down = stack_for("rabbitmq", live_server, tmp_path_factory)
    yield stack
    tear_down()
