"""/metrics (fast tier): after jobs run, the scrape shows them as Prometheus reads it: jobs by
status, faces, stage timings, webhook outcomes, queue depth, search latency. Counts come from
the database, so they equal the jobs run whatever process ran them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client

from images.models import Image
from tests import factories
from tests.fakes import BLUE, GREEN, RED, painted
from tests.metrics.scrape import samples, value
from tests.requests import submit

ONE_FACE = painted([(40, 40, 80, RED)])
TWO_FACES = painted([(10, 10, 60, BLUE), (150, 10, 60, GREEN)])
STAGES = ["queued", "fetch", "decode", "detect", "embed", "save", "match"]


def scrape(**headers: str) -> dict:
    response = Client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


def test_a_scrape_after_jobs_counts_them_their_faces_stages_and_webhooks(api, receiver):
    before = scrape()
    searches_before = sum(v for (n, _), v in before.items() if n == "facecore_search_seconds_count")

    receiver.answers["/hooks/metrics"] = [500]
    submit(api, ONE_FACE, callback_url=receiver.url("/hooks/metrics"))
    submit(api, TWO_FACES)
    submit(api, ONE_FACE[: len(ONE_FACE) // 2])  # corrupt pixels: failed, not_an_image
    receiver.wait_posts("/hooks/metrics", 2)

    found = scrape()
    assert value(found, "facecore_jobs_finished_total", status="done", purpose="job") == 2
    assert value(found, "facecore_jobs_finished_total", status="failed", purpose="job") == 1
    assert value(found, "facecore_job_failures_total", code="not_an_image") == 1
    assert value(found, "facecore_faces_total", purpose="job") == 3
    for status in ("queued", "processing", "retrying"):
        assert value(found, "facecore_jobs", status=status, purpose="job") == 0

    assert value(found, "facecore_job_duration_seconds_count", purpose="job") == 2
    assert value(found, "facecore_job_duration_seconds_sum", purpose="job") > 0
    assert value(found, "facecore_job_duration_seconds_bucket", purpose="job", le="+Inf") == 2
    for stage in STAGES:
        assert value(found, "facecore_job_stage_seconds_count", stage=stage) == 2, stage
    assert value(found, "facecore_job_stage_seconds_sum", stage="detect") > 0
    assert ("facecore_job_stage_seconds_count", frozenset({("stage", "batch_size")})) not in found
    assert value(found, "facecore_job_latency_seconds_count", status="done", purpose="job") == 2
    assert value(found, "facecore_job_latency_seconds_count", status="failed", purpose="job") == 1

    assert value(found, "facecore_webhook_attempts_total", outcome="http_error") == 1
    assert value(found, "facecore_webhook_attempts_total", outcome="success") == 1
    assert value(found, "facecore_webhook_attempt_seconds_count") == 2
    assert value(found, "facecore_webhook_deliveries_total", outcome="delivered") == 1
    assert value(found, "facecore_webhook_deliveries_pending") == 0

    assert value(found, "facecore_database_up") == 1
    searches = sum(v for (n, _), v in found.items() if n == "facecore_search_seconds_count")
    assert searches > searches_before, "matching searched each stored face"


def test_finished_jobs_are_counted_once_however_often_they_are_saved(api):
    submit(api, ONE_FACE)
    image = Image.objects.get()
    image.save()  # e.g. the admin's change form
    Image.objects.get().save(update_fields=["status", "finished_at"])
    found = scrape()
    assert value(found, "facecore_jobs_finished_total", status="done", purpose="job") == 1
    assert value(found, "facecore_faces_total", purpose="job") == 1


def test_unfinished_jobs_are_shown_by_status(service):
    app, _ = factories.application("backlog")
    for status in ["queued", "queued", "processing", "retrying"]:
        factories.image(app, status=status)
    found = scrape()
    assert value(found, "facecore_jobs", status="queued", purpose="job") == 2
    assert value(found, "facecore_jobs", status="processing", purpose="job") == 1
    assert value(found, "facecore_jobs", status="retrying", purpose="job") == 1


@pytest.mark.parametrize(
    ("token", "header", "status"),
    [
        ("", None, 200),
        ("s3cret", None, 401),
        ("s3cret", "Bearer wrong", 401),
        ("s3cret", "Bearer s3cret", 200),
    ],
)
def test_a_metrics_token_is_required_when_set(service, settings, token, header, status):
    settings.FACECORE_METRICS_TOKEN = token
    response = Client().get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == status


def reset_broker_connections(app) -> None:
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def test_queue_depth_is_read_from_the_embedded_broker(service, settings, tmp_path):
    """The embedded default's broker (a Valkey server from a wheel): messages nobody consumed."""
    from config.celery import app
    from infra import dispatch
    from tests.pipeline.services import embedded_broker

    previous = (app.conf.broker_url, app.conf.broker_transport_options)
    app.conf.task_always_eager = False  # the service fixture restores it
    with embedded_broker(tmp_path) as url:
        app.conf.broker_url = url
        app.conf.broker_transport_options = {"visibility_timeout": 900}
        reset_broker_connections(app)
        try:
            for n in range(3):
                app.send_task(
                    dispatch.PROCESS_IMAGE, args=[f"image-{n}"], queue=settings.FACECORE_FACES_QUEUE
                )
            app.send_task(dispatch.DELIVER_WEBHOOK, args=["delivery"], queue=settings.FACECORE_WEBHOOKS_QUEUE)
            found = scrape()
        finally:
            app.conf.broker_url, app.conf.broker_transport_options = previous
            reset_broker_connections(app)
    # The queues' configured names (a real-parts session earlier in the run renames them).
    assert value(found, "facecore_queue_messages", queue=settings.FACECORE_FACES_QUEUE) == 3
    assert value(found, "facecore_queue_messages", queue=settings.FACECORE_WEBHOOKS_QUEUE) == 1
    assert value(found, "facecore_broker_up") == 1


def test_an_unreachable_broker_shows_as_down_and_the_rest_still_answers(service, settings):
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    reset_broker_connections(app)
    try:
        found = scrape()
    finally:
        app.conf.broker_url = previous
        reset_broker_connections(app)
    assert value(found, "facecore_broker_up") == 0
    assert not [k for k in found if k[0] == "facecore_queue_messages"]
    assert value(found, "facecore_database_up") == 1


def documented_metrics() -> set[str]:
    text = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()
    return set(re.findall(r"^\| `(facecore_[a-z_]+)` \|", text, flags=re.MULTILINE))


def test_every_metric_is_documented_and_the_dashboard_uses_only_real_ones(api):
    from prometheus_client.parser import text_string_to_metric_families

    submit(api, ONE_FACE)
    text = Client().get("/metrics").content.decode()
    scraped = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in text_string_to_metric_families(text)
        if family.name.startswith("facecore_")
    }
    documented = documented_metrics()
    assert scraped == documented, f"undocumented: {scraped - documented}, not served: {documented - scraped}"

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs/grafana/facecore.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {re.sub(r"_(bucket|sum|count)$", "", n) for e in exprs for n in re.findall(r"facecore_[a-z_]+", e)}
    assert used <= documented, f"the dashboard queries unknown metrics: {used - documented}"
    assert {"facecore_faces_total", "facecore_queue_messages", "facecore_job_stage_seconds"} <= used
