"""Metrics of the embedded default (``manage.py runall``: embedded PostgreSQL and broker, a real
prefork worker): the API's /metrics counts the jobs the worker ran, and the worker's own port
serves the search latency its pool process measured, until the worker stops."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.metrics.scrape import samples, value
from tests.pipeline.conftest import JOB_TIMEOUT
from tests.pipeline.test_runall import free_port, started_runall, wait_for_http


@pytest.fixture
def runall(tmp_path: Path):
    """runall with the worker's metrics port on."""
    worker_port = free_port()
    metrics_port = {
        "FACECORE_WORKER_METRICS_PORT": str(worker_port),
        "FACECORE_WORKER_METRICS_HOST": "127.0.0.1",
    }
    with started_runall(tmp_path / "data", **metrics_port) as (process, base, key):
        yield process, base, key, f"http://127.0.0.1:{worker_port}", tmp_path / "data"


def scrape(url: str) -> dict:
    response = requests.get(f"{url}/metrics", timeout=30)
    assert response.status_code == 200, response.text
    return samples(response.text)


def test_runall_counts_its_jobs_and_its_worker_serves_search_latency(runall, face_jpeg: bytes) -> None:
    process, base, key, worker, data = runall
    wait_for_http(f"{base}/api/v1/images", key, time.monotonic() + 60)
    headers = {"X-API-Key": key}
    urls = []
    for _ in range(2):
        answer = requests.post(
            f"{base}/api/v1/images", headers=headers, files={"image": ("a.jpg", face_jpeg)}, timeout=30
        )
        assert answer.status_code == 202, answer.text
        urls.append(answer.json()["status_url"])
    deadline = time.monotonic() + JOB_TIMEOUT
    for url in urls:
        while (status := requests.get(url, headers=headers, timeout=10).json())["status"] not in (
            "done",
            "failed",
        ) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert status["status"] == "done", status

    found = scrape(base)
    assert value(found, "facecore_jobs_finished_total", status="done", purpose="job") == 2
    assert value(found, "facecore_faces_total", purpose="job") == 2
    assert value(found, "facecore_job_stage_seconds_count", stage="detect") == 2
    assert value(found, "facecore_queue_messages", queue="faces") == 0  # nothing waits in the embedded broker
    assert value(found, "facecore_workers") == 1

    searched = scrape(worker)
    counts = {k: v for k, v in searched.items() if k[0] == "facecore_search_seconds_count"}
    assert counts and all(v > 0 for v in counts.values()), sorted(searched)
    folders = list((data / "metrics").glob("worker-*"))
    assert len(folders) == 1 and list(folders[0].glob("*.db")), "the pool process wrote its samples"

    process.terminate()
    assert process.wait(timeout=60) is not None
    assert not list((data / "metrics").glob("worker-*")), "the worker removed its metrics folder"
