"""The tallies behind the cluster's counters and histograms."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class Tally(models.Model):
    """One shard of one counter or histogram series, summed over shards at scrape time.

    Counters keep their total in ``value``. Histograms keep the sum of observations in
    ``value``, their number in ``count`` and the (non-cumulative) count per bucket of
    ``metrics.tally.BUCKETS[name]`` in ``buckets``. Writers add to a random one of
    ``tally.SHARDS`` rows, so concurrent jobs rarely wait for each other's row lock.
    """

    name = models.CharField(max_length=100)
    labels = models.CharField(max_length=300, blank=True)
    """The series' labels as sorted JSON (``{"status": "done"}``)."""
    shard = models.SmallIntegerField()
    value = models.FloatField(default=0)
    count = models.BigIntegerField(default=0)
    buckets = ArrayField(models.BigIntegerField(), default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "labels", "shard"], name="metrics_tally_series_shard")
        ]

    def __str__(self) -> str:
        return f"{self.name}{self.labels}#{self.shard}"
