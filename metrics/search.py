"""Vector search latency, measured in the process that searches (the workers, mostly).

``observed`` wraps ``recognition.search.nearest`` without touching its logic. The histogram is
created on first use, so a worker that turned on prometheus_client's multiprocess mode before
forking its pool (``worker.metrics_exporter``) gets per-process files its exporter sums.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prometheus_client import Histogram

SEARCH_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

P = ParamSpec("P")
R = TypeVar("R")

_histogram: Histogram | None = None


def search_seconds() -> Histogram:
    global _histogram
    if _histogram is None:
        _histogram = Histogram(
            "facecore_search_seconds",
            "Duration of one nearest-neighbour search (pgvector), by model and scope.",
            ["model", "scope"],
            buckets=SEARCH_BUCKETS,
        )
    return _histogram


def reset() -> None:
    """Forget the histogram (multiprocess mode was just turned on: make it again on next use)."""
    global _histogram
    if _histogram is not None:
        from prometheus_client import REGISTRY

        REGISTRY.unregister(_histogram)
    _histogram = None


def observed(nearest: Callable[P, R]) -> Callable[P, R]:
    """Time every call of ``nearest(application_id, model, vector, *, scope, ...)``."""

    @functools.wraps(nearest)
    def timed(*args: P.args, **kwargs: P.kwargs) -> R:
        start = time.perf_counter()
        try:
            return nearest(*args, **kwargs)
        finally:
            model = args[1] if len(args) > 1 else kwargs.get("model", "")
            search_seconds().labels(model=str(model), scope=str(kwargs.get("scope", ""))).observe(
                time.perf_counter() - start
            )

    return timed
