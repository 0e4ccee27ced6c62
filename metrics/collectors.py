"""The cluster as Prometheus sees it, computed when scraped.

``DatabaseCollector``: tallies (counters, histograms) summed over their shards, plus the live
state from small partial indexes: unfinished jobs (``image_unfinished_idx``), pending webhooks
(``delivery_pending_idx``) and live workers. Its cost does not grow with the number of images.
``QueueCollector``: the broker's queue lengths.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from images.models import DeliveryStatus, Image, ImageStatus, WebhookDelivery, WorkerHeartbeat
from infra import dispatch
from metrics import tally
from metrics.models import Tally

log = logging.getLogger(__name__)

UNFINISHED = [ImageStatus.QUEUED, ImageStatus.PROCESSING, ImageStatus.RETRYING]


def _series() -> dict[str, dict[str, list]]:
    """``{name: {labels: [value, count, buckets]}}`` summed over shards (a few hundred rows)."""
    out: dict[str, dict[str, list]] = defaultdict(dict)
    for name, labels, value, count, buckets in Tally.objects.values_list(
        "name", "labels", "value", "count", "buckets"
    ):
        row = out[name].setdefault(labels, [0.0, 0, []])
        row[0] += value
        row[1] += count
        row[2] += [0] * (len(buckets) - len(row[2]))
        for i, n in enumerate(buckets):
            row[2][i] += n
    return out


def _tallied(series: dict[str, dict[str, list]]) -> Iterator[Metric]:
    for name, help_text in tally.COUNTERS.items():
        rows = {tally.label_key(zero): [0.0, 0, []] for zero in tally.ZEROS.get(name, [])}
        rows.update(series.get(name, {}))
        keys = sorted({k for labels in rows for k in json.loads(labels)})
        family = CounterMetricFamily(name, help_text, labels=keys)
        for labels, (value, _, _) in sorted(rows.items()):
            parsed = json.loads(labels)
            family.add_metric([parsed.get(k, "") for k in keys], value)
        yield family
    for name, (bounds, help_text) in tally.HISTOGRAMS.items():
        rows = series.get(name, {})
        keys = sorted({k for labels in rows for k in json.loads(labels)})
        family = HistogramMetricFamily(name, help_text, labels=keys)
        for labels, (total, count, buckets) in sorted(rows.items()):
            if not buckets:
                continue
            parsed = json.loads(labels)
            cumulative, running = [], 0
            for bound, n in zip([*map(floatToGoString, bounds), "+Inf"], buckets, strict=False):
                running += n
                cumulative.append((bound, running))
            if cumulative[-1][0] == "+Inf":
                cumulative.pop()
            cumulative.append(("+Inf", count))
            family.add_metric([parsed.get(k, "") for k in keys], cumulative, total)
        yield family


def _live() -> Iterator[Metric]:
    jobs = GaugeMetricFamily(
        "facecore_jobs",
        "Jobs not finished yet, by status (queued, processing, retrying) and purpose.",
        labels=["status", "purpose"],
    )
    counted = {(str(status), "job"): 0 for status in UNFINISHED}
    for row in (
        Image.objects.filter(status__in=UNFINISHED).values("status", "purpose").annotate(n=Count("pk"))
    ):
        counted[(row["status"], row["purpose"])] = row["n"]
    for (status, purpose), n in sorted(counted.items()):
        jobs.add_metric([str(status), str(purpose)], n)
    yield jobs

    now = timezone.now()
    oldest = Image.objects.filter(status=ImageStatus.QUEUED).aggregate(at=Min("enqueued_at"))["at"]
    yield GaugeMetricFamily(
        "facecore_job_oldest_queued_seconds",
        "Age of the oldest queued job's last send to the broker (0 when none is queued).",
        value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
    yield GaugeMetricFamily(
        "facecore_webhook_deliveries_pending", "Webhook deliveries not finished yet.", value=pending.count()
    )
    since = now - timedelta(seconds=3 * settings.FACECORE_HEARTBEAT_SECONDS)
    yield GaugeMetricFamily(
        "facecore_workers",
        "Worker process groups with a heartbeat in the last 3 intervals.",
        value=WorkerHeartbeat.objects.filter(last_seen_at__gte=since).count(),
    )


class DatabaseCollector(Collector):
    """Every job and webhook of the cluster, from PostgreSQL."""

    def collect(self) -> Iterator[Metric]:
        up = 1
        try:
            metrics = [*_tallied(_series()), *_live()]
        except DatabaseError:
            log.warning("metrics: the database cannot be read", exc_info=True)
            metrics, up = [], 0
        yield from metrics
        yield GaugeMetricFamily("facecore_database_up", "1 when the database answered this scrape.", value=up)


def queue_names() -> list[str]:
    return list(dict.fromkeys([settings.FACECORE_FACES_QUEUE, settings.FACECORE_WEBHOOKS_QUEUE]))


class QueueCollector(Collector):
    """The broker's faces and webhooks queues."""

    def collect(self) -> Iterator[Metric]:
        found = dispatch.queue_lengths(queue_names())
        family = GaugeMetricFamily(
            "facecore_queue_messages",
            "Messages waiting in the broker queue (not those a worker holds), by queue.",
            labels=["queue"],
        )
        for queue, n in (found or {}).items():
            family.add_metric([queue], n)
        yield family
        yield GaugeMetricFamily(
            "facecore_broker_up", "1 when the broker answered this scrape.", value=int(found is not None)
        )
