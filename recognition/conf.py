"""Recognition settings, read from the environment (documented in docs/configuration.md)."""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def sync_timeout() -> float:
    """Seconds a synchronous call (recognize, verify, detect, add example) waits for the worker."""
    return _float("FACECORE_SYNC_TIMEOUT", 60.0)


def sync_poll_interval() -> float:
    return _float("FACECORE_SYNC_POLL_INTERVAL", 0.05)


def ef_search() -> int:
    """HNSW candidate list size per query (recall vs. latency; see docs/benchmarks.md)."""
    return _int("FACECORE_SEARCH_EF", 100)


def cluster_min_faces() -> int:
    """A new suggested person needs this many unnamed faces (from different images) within the threshold."""
    return _int("FACECORE_CLUSTER_MIN_FACES", 3)


def cluster_min_agree() -> int:
    """A face joins an existing cluster when at least this many of its neighbours are in it."""
    return _int("FACECORE_CLUSTER_MIN_AGREE", 1)


def match_limit() -> int:
    """At most this many matches are stored per face (nearest first)."""
    return _int("FACECORE_MATCH_LIMIT", 50)
