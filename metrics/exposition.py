"""What ``/metrics`` and the workers' exporter answer, and who may read it.

Access: open when FACECORE_METRICS_TOKEN is empty (a private network, like the compose stack);
otherwise ``Authorization: Bearer <token>`` is required (Prometheus' ``authorization`` block).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.registry import Collector

from metrics.collectors import DatabaseCollector, QueueCollector


class Registered(Collector):
    """Another registry's metrics (this process's own: search latency, process and Python)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator:
        return self.registry.collect()


def api_registry(process: CollectorRegistry = REGISTRY) -> CollectorRegistry:
    """The whole cluster from the database and the broker, and this process's own metrics."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in (DatabaseCollector(), QueueCollector(), Registered(process)):
        registry.register(collector)
    return registry


def authorized(authorization: str | None, token: str | None = None) -> bool:
    """``authorization`` is the request's Authorization header."""
    token = settings.FACECORE_METRICS_TOKEN if token is None else token
    if not token:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def guarded(app, token: str):
    """A WSGI app that answers 401 unless the request carries the bearer token (if one is set)."""

    def guarded_app(environ, start_response) -> Iterable[bytes]:
        if authorized(environ.get("HTTP_AUTHORIZATION"), token):
            return app(environ, start_response)
        start_response("401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")])
        return [b"metrics need Authorization: Bearer <FACECORE_METRICS_TOKEN>\n"]

    return guarded_app
