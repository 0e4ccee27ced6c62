"""Health endpoints for load balancers and compose healthchecks (no API key needed)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from images.models import WorkerHeartbeat
from infra import dispatch
from infra.storage import get_store

READY_PROBE_KEY = "readyz/probe"


@require_GET
def healthz(request) -> JsonResponse:
    """The process is up and answers; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return None


def _broker() -> str | None:
    return None if dispatch.broker_reachable() else "unreachable"


def _object_store() -> str | None:
    get_store().exists(READY_PROBE_KEY)  # raises StorageUnavailable when the store is down
    return None


def _worker() -> str | None:
    since = timezone.now() - timedelta(seconds=3 * settings.FACECORE_HEARTBEAT_SECONDS)
    alive = WorkerHeartbeat.objects.filter(last_seen_at__gte=since).count()
    return None if alive else "no worker heartbeat in the last 3 intervals"


CHECKS = {"database": _database, "broker": _broker, "object_store": _object_store, "worker": _worker}


@require_GET
def readyz(request) -> JsonResponse:
    """200 when the database, the broker and the object store answer and a worker is alive."""
    results = {}
    for name, check in CHECKS.items():
        try:
            problem = check()
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"[:300]
        results[name] = {"ok": problem is None, **({"error": problem} if problem else {})}
    ready = all(r["ok"] for r in results.values())
    return JsonResponse(
        {"status": "ready" if ready else "not_ready", "checks": results}, status=200 if ready else 503
    )
