"""Queue depth from the real brokers (Redis, RabbitMQ): the messages nobody consumed yet, and 0
for a queue that is empty or was never declared."""

from __future__ import annotations

import contextlib
import os
import uuid

import pytest

from tests.conftest import AMQP_URL, REDIS_URL
from tests.pipeline.services import use_broker

pytestmark = pytest.mark.real_parts  # needs the brokers; no fixture of REAL_FIXTURES says so


@pytest.fixture
def broker(request):
    from config.celery import app

    previous = (os.environ.get("CELERY_BROKER_URL"), app.conf.broker_url, app.conf.broker_transport_options)
    use_broker(app, request.param)
    yield app
    env, url, options = previous
    use_broker(app, url)
    app.conf.broker_transport_options = options
    if env is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = env


@pytest.mark.parametrize("broker", [REDIS_URL, AMQP_URL], ids=["redis", "rabbitmq"], indirect=True)
def test_depth_counts_the_waiting_messages_of_each_queue(broker):
    from infra import dispatch
    from infra.dispatch import queue_lengths as depths

    busy, idle, never = (f"test-depth-{name}-{uuid.uuid4().hex[:8]}" for name in ("busy", "idle", "never"))
    try:
        for n in range(4):
            broker.send_task(dispatch.PROCESS_IMAGE, args=[f"image-{n}"], queue=busy)
        broker.send_task(dispatch.PROCESS_IMAGE, args=["x"], queue=idle)
        with broker.connection_for_write() as conn:
            conn.default_channel.queue_purge(idle)
        assert depths([busy, idle, never]) == {busy: 4, idle: 0, never: 0}
    finally:
        with broker.connection_for_write() as conn:
            for queue in (busy, idle):
                with contextlib.suppress(Exception):
                    conn.default_channel.queue_delete(queue)
