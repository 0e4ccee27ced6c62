"""Adding to the tallies: one ``INSERT … ON CONFLICT DO UPDATE`` per finished piece of work.

A write runs inside the caller's transaction (the one that finishes the job), so a job that
rolls back counts nothing and a committed one is counted exactly once, whichever worker ran it.
It sits in a savepoint: a failing tally is logged and never fails the job.
"""

from __future__ import annotations

import bisect
import json
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction

from metrics.models import Tally

log = logging.getLogger(__name__)

SHARDS = 16

STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
"""Seconds; from a fast decode to an image that waited an hour in a backlog."""
WEBHOOK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

COUNTERS = {
    "facecore_jobs_finished": "Jobs that ended, by final status (done, failed) and purpose (job, example, probe).",
    "facecore_job_failures": "Jobs that ended failed, by error code.",
    "facecore_job_retries": "Times a job was set to retry after a transient fault, by error code.",
    "facecore_faces": "Faces stored by finished jobs, by purpose: rate() of it is faces per second.",
    "facecore_webhook_attempts": "Webhook POSTs, by outcome (success, http_error, network_error, refused).",
    "facecore_webhook_deliveries": "Webhook deliveries that ended, by outcome (delivered, failed, refused).",
}
ZEROS = {
    "facecore_jobs_finished": [{"status": "done", "purpose": "job"}, {"status": "failed", "purpose": "job"}],
    "facecore_faces": [{"purpose": "job"}],
}
"""Series shown as 0 before anything happened, so rate() and dashboards have them from the start."""
HISTOGRAMS = {
    "facecore_job_duration_seconds": (
        STAGE_BUCKETS,
        "Processing time of a done job (Image.timings total: fetch to save, without the queue wait).",
    ),
    "facecore_job_stage_seconds": (
        STAGE_BUCKETS,
        "Time of each stage of a done job (Image.timings): queued, fetch, decode, detect, embed, preview, save, match (inside save).",
    ),
    "facecore_job_latency_seconds": (
        STAGE_BUCKETS,
        "Upload to final status (done or failed), queue wait and retries included.",
    ),
    "facecore_webhook_attempt_seconds": (WEBHOOK_BUCKETS, "Duration of one webhook POST."),
}


def label_key(labels: dict[str, str]) -> str:
    return json.dumps({k: str(v) for k, v in labels.items()}, sort_keys=True, separators=(",", ":"))


@dataclass
class Batch:
    """What one piece of work adds, merged per series (one row per series in the statement)."""

    rows: dict[tuple[str, str], list] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0, None]))

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        assert name in COUNTERS, name
        self.rows[(name, label_key(labels))][0] += amount

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        bounds = HISTOGRAMS[name][0]
        row = self.rows[(name, label_key(labels))]
        if row[2] is None:
            row[2] = [0] * (len(bounds) + 1)
        row[0] += seconds
        row[1] += 1
        row[2][bisect.bisect_left(bounds, seconds)] += 1  # le: a value on a bound is in that bucket


UPSERT = """
INSERT INTO {table} (name, labels, shard, value, count, buckets) VALUES {values}
ON CONFLICT (name, labels, shard) DO UPDATE SET
    value = {table}.value + EXCLUDED.value,
    count = {table}.count + EXCLUDED.count,
    buckets = ARRAY(
        SELECT COALESCE(a, 0) + COALESCE(b, 0)
        FROM unnest({table}.buckets, EXCLUDED.buckets) WITH ORDINALITY AS u(a, b, i) ORDER BY i
    )
"""


def add(batch: Batch) -> None:
    """Add ``batch`` to the tallies in the current transaction; logged, never raised, on failure."""
    if not batch.rows:
        return
    shard = random.randrange(SHARDS)
    params: list = []
    for (name, labels), (value, count, buckets) in sorted(batch.rows.items()):
        params += [name, labels, shard, value, count, buckets or []]
    values = ",".join(["(%s, %s, %s, %s, %s, %s::bigint[])"] * len(batch.rows))
    sql = UPSERT.format(table=Tally._meta.db_table, values=values)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        log.warning("metrics not tallied", exc_info=True)
