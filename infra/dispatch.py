"""The one place that sends Celery messages. Tasks are addressed by name, so services enqueue
work without importing the worker (the worker imports the services)."""

from __future__ import annotations

from celery import current_app

PROCESS_IMAGE = "worker.tasks.process_image"
DELIVER_WEBHOOK = "worker.tasks.deliver_webhook"


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
