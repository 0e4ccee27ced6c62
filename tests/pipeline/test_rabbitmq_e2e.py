"""The same pipeline with RabbitMQ as the broker (the other tests use Redis)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(rabbitmq_worker, client_factory):
    return client_factory("rabbit")


def test_upload_processed_through_rabbitmq(api, two_faces_jpeg, web):
    from config.celery import app

    assert app.conf.broker_url.startswith("amqp://")
    response = api.upload(two_faces_jpeg, callback_url=web.url("/hooks/rabbit"))
    assert response.status_code == 202
    status = api.wait(response.json()["image_id"])
    assert status["status"] == "done"
    assert len(status["faces"]) == 2
    [hook] = web.wait_posts("/hooks/rabbit", 1)
    assert hook.answered == 200
