"""Worker heartbeats: each worker's main process writes ``WorkerHeartbeat`` every
FACECORE_HEARTBEAT_SECONDS, so ``/readyz`` can tell that some worker is alive whatever the broker."""

from __future__ import annotations

import logging
import threading

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import connection
from django.utils import timezone

from images.models import WorkerHeartbeat

log = logging.getLogger(__name__)

_stop = threading.Event()


def beat(hostname: str, queues: str, started_at) -> None:
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={"queues": queues, "started_at": started_at, "last_seen_at": timezone.now()},
    )


def _loop(hostname: str, queues: str) -> None:
    started_at = timezone.now()
    while not _stop.is_set():
        try:
            beat(hostname, queues, started_at)
        except Exception:
            log.warning("heartbeat of %s not written", hostname, exc_info=True)
        finally:
            connection.close()
        _stop.wait(settings.FACECORE_HEARTBEAT_SECONDS)


@worker_ready.connect
def start_heartbeat(sender=None, **kwargs) -> None:
    queues = ",".join(sorted(q.name for q in sender.app.amqp.queues.consume_from.values()))
    _stop.clear()
    threading.Thread(target=_loop, args=(sender.hostname, queues), name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def stop_heartbeat(sender=None, **kwargs) -> None:
    _stop.set()
    try:
        WorkerHeartbeat.objects.filter(hostname=sender.hostname).delete()
    except Exception:
        log.warning("heartbeat of %s not removed", sender.hostname, exc_info=True)
    finally:
        connection.close()
