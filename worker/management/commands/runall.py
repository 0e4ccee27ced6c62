"""``manage.py runall``: migrate, collect the static files, make sure an application exists,
then run a Celery worker (with beat, which runs the reconciler) and the HTTP server together
until Ctrl-C or SIGTERM (both are stopped then)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from infra.embedded import forget_dead_handles
from tenants.keys import create_api_key
from tenants.models import Application

DEFAULT_APPLICATION = "default"


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (docker stop, systemd, kill) stops the children the same way Ctrl-C does."""
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the API server and a Celery worker (with beat) together (embedded defaults need no other services)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.FACECORE_HOST)
        parser.add_argument("--port", type=int, default=settings.FACECORE_PORT)
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.FACECORE_WORKER_CONCURRENCY or os.cpu_count() or 1,
            help="worker processes (default: FACECORE_WORKER_CONCURRENCY, else one per CPU core)",
        )
        parser.add_argument(
            "--gunicorn", action="store_true", help="serve with gunicorn instead of runserver"
        )

    def handle(self, *args, host: str, port: int, concurrency: int, gunicorn: bool, **options) -> None:
        signal.signal(signal.SIGTERM, _interrupt)
        # This process starts the embedded database (if any) before its children attach to it.
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self._ensure_application()
        queues = f"{settings.FACECORE_FACES_QUEUE},{settings.FACECORE_WEBHOOKS_QUEUE}"
        worker_cmd = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "-Q", queues, "--concurrency", str(concurrency), "--loglevel", "INFO",
            "--beat", "--schedule", str(settings.DATA_DIR / "celerybeat-schedule"),
        ]  # fmt: skip
        if gunicorn:
            server_cmd = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"{host}:{port}"]
        else:
            server_cmd = [sys.executable, "manage.py", "runserver", "--noreload", f"{host}:{port}"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cwd = str(settings.BASE_DIR)
        children = [
            subprocess.Popen(worker_cmd, cwd=cwd, env=env),
            subprocess.Popen(server_cmd, cwd=cwd, env=env),
        ]
        self.stdout.write(
            f"facecore API on http://{host}:{port}/api/v1/images (docs: /api/docs); Ctrl-C stops."
        )
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("A child process exited; stopping the other.")
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            self._stop(children)
            if not os.environ.get("DATABASE_URL"):
                # Children killed mid-way never told pgserver; this process is then its last user
                # and stops the embedded server when it exits.
                forget_dead_handles(settings.DATA_DIR / "pgdata")

    def _ensure_application(self) -> None:
        if Application.objects.exists():
            self.stdout.write("Make an API key with: python manage.py create_api_key NAME")
            return
        application = Application.objects.create(name=DEFAULT_APPLICATION)
        key, raw_key = create_api_key(application, "runall")
        self.stdout.write(f"Created application {application.name!r}. Its API key (shown once): {raw_key}")

    @staticmethod
    def _stop(children: list[subprocess.Popen]) -> None:
        """SIGINT the children (they shut down cleanly on it), then wait for their whole process
        trees (the worker's pool and beat processes too), killing what is left after 20 s."""
        import psutil

        tree = []
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                tree += [psutil.Process(child.pid), *psutil.Process(child.pid).children(recursive=True)]
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 20
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        _, alive = psutil.wait_procs(tree, timeout=max(0.1, deadline - time.monotonic()))
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(alive, timeout=5)
