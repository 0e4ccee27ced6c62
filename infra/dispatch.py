"""The one place that sends Celery messages. Tasks are addressed by name, so services enqueue
work without importing the worker (the worker imports the services)."""

from __future__ import annotations

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
    app = current_app
    if app.conf.task_always_eager:
        return None
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1)
            return int(conn.default_channel.queue_declare(queue=queue, passive=True).message_count)
    except Exception as exc:  # e.g. RabbitMQ answers NOT_FOUND for a queue never declared
        log.info("cannot read the length of queue %s: %s", queue, exc)
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
