"""The one place that sends Celery messages. Tasks are addressed by name, so services enqueue
work without importing the worker (the worker imports the services)."""

from __future__ import annotations

import contextlib
import logging

from celery import current_app

log = logging.getLogger(__name__)

PROCESS_IMAGE = "worker.tasks.process_image"
DELIVER_WEBHOOK = "worker.tasks.deliver_webhook"
RECONCILE = "worker.tasks.reconcile"
MIGRATE_EMBEDDINGS = "worker.tasks.migrate_embeddings"
ACTIVE_MODEL_CHANGED = "worker.tasks.active_model_changed"


def send(task: str, args: list, queue: str, countdown: float | None = None) -> None:
    """Enqueue ``task(*args)`` on ``queue``; raises when the broker cannot be reached.

    With ``task_always_eager`` (the fast test tier) the task runs here and now instead.
    """
    app = current_app
    if app.conf.task_always_eager:
        app.loader.import_default_modules()
        app.tasks[task].apply(args=args)
        return
    app.send_task(task, args=args, queue=queue, countdown=countdown)


def queue_length(queue: str) -> int | None:
    """Messages waiting in ``queue`` (not counting those a worker holds); None if unknown."""
    if current_app.conf.task_always_eager:
        return None
    lengths = queue_lengths([queue])
    return None if lengths is None else lengths[queue]


QUEUE_CONNECT_TIMEOUT = 2.0


def _not_found(exc: Exception) -> bool:
    return (
        getattr(exc, "code", None) == 404
        or getattr(exc, "reply_code", None) == 404
        or "NOT_FOUND" in str(exc)
    )


def queue_lengths(queues: list[str]) -> dict[str, int] | None:
    """``{queue: waiting messages}``, read the same way for every transport kombu speaks;
    None when the broker cannot be reached (logged).

    A passive ``queue_declare`` answers the message count on RabbitMQ, Redis and the filesystem
    transport alike, without creating anything. NOT_FOUND means no message is waiting: Redis
    deletes an empty list, and RabbitMQ has no queue nobody declared yet (nothing could be routed
    to it). Messages a worker already holds (prefetched, or delayed retries waiting for their
    ETA) are not in the count.
    """
    try:
        with current_app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=QUEUE_CONNECT_TIMEOUT)
            out = {}
            for queue in queues:
                channel = conn.channel()  # a failed passive declare closes its channel (AMQP)
                try:
                    out[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
                except conn.channel_errors as exc:
                    if not _not_found(exc):
                        raise
                    out[queue] = 0
                finally:
                    with contextlib.suppress(Exception):
                        channel.close()
            return out
    except Exception as exc:
        log.warning("cannot read the broker's queue lengths: %s", exc)
        return None


def broker_reachable(timeout: float = 2.0) -> bool:
    app = current_app
    if app.conf.task_always_eager:
        return True
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:
        return False
