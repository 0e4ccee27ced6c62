"""Tallies (fast tier, real PostgreSQL): what workers add in their transactions is what a scrape
shows, summed over shards, with Prometheus' bucket semantics (``le``: less than or equal)."""

from __future__ import annotations

import pytest
from django.db import transaction
from prometheus_client import CollectorRegistry, generate_latest

from metrics import tally
from metrics.collectors import DatabaseCollector
from tests.metrics.scrape import samples, value

pytestmark = pytest.mark.django_db


def scrape() -> dict:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    return samples(generate_latest(registry).decode())


def test_observations_land_in_the_right_buckets_and_shards_add_up(monkeypatch):
    for shard, seconds in [(0, 0.005), (1, 0.2), (2, 5000.0)]:  # on a bound, between, past the last
        monkeypatch.setattr(tally.random, "randrange", lambda n, shard=shard: shard)
        batch = tally.Batch()
        batch.observe("facecore_job_stage_seconds", seconds, stage="detect")
        batch.inc("facecore_faces", 2, purpose="job")
        tally.add(batch)
    found = scrape()
    bucket = "facecore_job_stage_seconds_bucket"
    assert value(found, bucket, stage="detect", le="0.005") == 1
    assert value(found, bucket, stage="detect", le="0.1") == 1
    assert value(found, bucket, stage="detect", le="0.25") == 2
    assert value(found, bucket, stage="detect", le="3600.0") == 2
    assert value(found, bucket, stage="detect", le="+Inf") == 3
    assert value(found, "facecore_job_stage_seconds_count", stage="detect") == 3
    assert value(found, "facecore_job_stage_seconds_sum", stage="detect") == pytest.approx(5000.205)
    assert value(found, "facecore_faces_total", purpose="job") == 6


def test_a_rolled_back_job_counts_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        batch = tally.Batch()
        batch.inc("facecore_jobs_finished", status="done", purpose="job")
        tally.add(batch)
        raise RuntimeError("the job's transaction fails after tallying")
    assert value(scrape(), "facecore_jobs_finished_total", status="done", purpose="job") == 0
