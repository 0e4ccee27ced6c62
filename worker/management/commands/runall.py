"""``manage.py runall``: the embedded default as one command a user can leave running for months.

It checks that the database can run facecore's vector operations (infra.db_selfcheck), migrates,
collects the static files, makes sure an application exists, then runs and supervises (worker.
supervisor) the embedded broker (when CELERY_BROKER_URL is unset), a Celery worker with beat (the
reconciler) and the API under gunicorn. A child that dies is restarted with a back-off; Ctrl-C or
SIGTERM stops them all, the broker last.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from infra import embedded_broker
from infra.db_selfcheck import DatabaseSelfCheckError, conninfo_of, run_selfcheck
from infra.embedded import forget_dead_handles, update_vector_extension
from tenants.keys import create_api_key
from tenants.models import Application
from worker.supervisor import Child, Supervisor

DEFAULT_APPLICATION = "default"
BROKER, WORKER, WEB = "broker", "worker", "web"
GUNICORN = ["gunicorn", "-c", "python:config.gunicorn"]
"""The API server, as docker-compose and the image run it (config/gunicorn.py)."""


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (docker stop, systemd, kill) stops the children the same way Ctrl-C does."""
    raise KeyboardInterrupt


def embedded_database() -> bool:
    return not os.environ.get("DATABASE_URL")


def embedded_broker_in_use() -> bool:
    return not os.environ.get("CELERY_BROKER_URL")


class Command(BaseCommand):
    help = (
        "Run the API (gunicorn), a Celery worker with beat and, on embedded defaults, the broker, supervised."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.FACECORE_HOST)
        parser.add_argument("--port", type=int, default=settings.FACECORE_PORT)
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.FACECORE_WORKER_CONCURRENCY or os.cpu_count() or 1,
            help="worker processes (default: FACECORE_WORKER_CONCURRENCY, else one per CPU core)",
        )

    def handle(self, *args, host: str, port: int, concurrency: int, **options) -> None:
        signal.signal(signal.SIGTERM, _interrupt)
        # This process starts the embedded database (if any) before its children attach to it.
        self._selfcheck()
        call_command("migrate", interactive=False, verbosity=0)
        self._update_embedded_pgvector()
        call_command("collectstatic", interactive=False, verbosity=0)
        self._ensure_application()
        connection.close()  # the children open their own; this process only supervises
        if connection.pool:
            connection.close_pool()  # nor keep the pool's idle connection for months
        supervisor = Supervisor(
            self._children(host, port, concurrency),
            cwd=str(settings.BASE_DIR),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            log=lambda line: self.stderr.write(f"runall: {line}"),
        )
        try:
            supervisor.start()
            self.stdout.write(
                f"facecore API on http://{host}:{port}/api/v1/images (docs: /api/docs); Ctrl-C stops."
            )
            while True:
                supervisor.watch()
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            supervisor.stop(first=[WEB, WORKER], then=[BROKER])
            if embedded_database():
                # Children killed mid-way never told the embedded server; this process is then its
                # last user and stops it when it exits.
                forget_dead_handles(settings.DATA_DIR / "pgdata")

    def _children(self, host: str, port: int, concurrency: int) -> list[Child]:
        children = []
        if embedded_broker_in_use():
            broker_dir = settings.DATA_DIR / "broker"
            children.append(
                Child(
                    BROKER,
                    embedded_broker.server_command(broker_dir),
                    ready=lambda: embedded_broker.ping(broker_dir),
                )
            )
        queues = f"{settings.FACECORE_FACES_QUEUE},{settings.FACECORE_WEBHOOKS_QUEUE}"
        children.append(
            Child(
                WORKER,
                [sys.executable, "-m", "celery", "-A", "config", "worker",
                 "-Q", queues, "--concurrency", str(concurrency), "--loglevel", "INFO",
                 "--beat", "--schedule", str(settings.DATA_DIR / "celerybeat-schedule")],
            )
        )  # fmt: skip
        children.append(Child(WEB, [sys.executable, "-m", *GUNICORN, "--bind", f"{host}:{port}"]))
        return children

    def _selfcheck(self) -> None:
        """One vector distance and one HNSW insert before anything else; a crash is an error that
        names the cause and the way out (infra.db_selfcheck)."""
        connection.ensure_connection()  # starts the embedded server
        params = conninfo_of(connection.get_connection_params())
        log = settings.DATA_DIR / "pgdata" / "log" if embedded_database() else None
        try:
            run_selfcheck(params, server_log=log, embedded=embedded_database())
        except DatabaseSelfCheckError as exc:
            raise CommandError(str(exc)) from exc

    def _update_embedded_pgvector(self) -> None:
        """A data folder made by an older embedded server keeps its older pgvector catalog entries;
        bring them to the installed library's version (the embedded server is ours to update)."""
        if not embedded_database():
            return
        with connection.cursor() as cursor:
            updated = update_vector_extension(cursor)
        if updated:
            self.stdout.write(f"pgvector updated from {updated[0]} to {updated[1]}")

    def _ensure_application(self) -> None:
        if Application.objects.exists():
            self.stdout.write("Make an API key with: python manage.py create_api_key NAME")
            return
        application = Application.objects.create(name=DEFAULT_APPLICATION)
        key, raw_key = create_api_key(application, "runall")
        self.stdout.write(f"Created application {application.name!r}. Its API key (shown once): {raw_key}")
