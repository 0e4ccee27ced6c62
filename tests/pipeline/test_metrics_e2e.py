"""/metrics with real parts: a real worker on Redis runs the jobs (real engine, S3 server), the API
is served over HTTP, and the queue depth is read from the real Redis broker."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.metrics.scrape import samples, value

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(base: str) -> dict:
    response = requests.get(f"{base}/metrics", timeout=30)
    assert response.status_code == 200, response.text
    return samples(response.text)


def test_metrics_show_the_jobs_a_redis_worker_ran_and_the_messages_waiting_in_redis(
    api, face_jpeg, two_faces_jpeg, settings
):
    ids = [api.upload(photo).json()["image_id"] for photo in (face_jpeg, two_faces_jpeg)]
    statuses = [api.wait(image_id) for image_id in ids]
    assert [s["status"] for s in statuses] == ["done", "done"]
    faces = sum(len(s["faces"]) for s in statuses)

    found = scrape(api.base)
    assert value(found, "facecore_jobs_finished_total", status="done", purpose="job") == 2
    assert value(found, "facecore_faces_total", purpose="job") == faces >= 2
    assert value(found, "facecore_job_duration_seconds_count", purpose="job") == 2
    assert value(found, "facecore_job_duration_seconds_sum", purpose="job") > 0
    for stage in ("queued", "fetch", "decode", "detect", "embed", "save"):
        assert value(found, "facecore_job_stage_seconds_count", stage=stage) == 2, stage
    assert value(found, "facecore_job_stage_seconds_sum", stage="detect") > 0
    assert value(found, "facecore_broker_up") == 1
    assert value(found, "facecore_queue_messages", queue=settings.FACECORE_FACES_QUEUE) == 0
    assert sum(v for (n, _), v in found.items() if n == "facecore_search_seconds_count") > 0

    # Jobs sent to a queue no worker consumes wait in Redis: the scrape counts them there.
    from config.celery import app

    settings.FACECORE_FACES_QUEUE = f"test-unconsumed-{uuid.uuid4().hex[:8]}"
    try:
        for _ in range(3):
            assert api.upload(face_jpeg).status_code == 202
        found = scrape(api.base)
        assert value(found, "facecore_queue_messages", queue=settings.FACECORE_FACES_QUEUE) == 3
        assert value(found, "facecore_jobs", status="queued", purpose="job") == 3
        assert value(found, "facecore_job_oldest_queued_seconds") >= 0
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(settings.FACECORE_FACES_QUEUE)
