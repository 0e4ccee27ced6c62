"""Each worker serves its own processes' metrics (vector search latency) on
FACECORE_WORKER_METRICS_PORT, for Prometheus to scrape beside the API's /metrics.

The pool's processes are forks of the worker's main process, so prometheus_client's
multiprocess mode is turned on in the main process before the pool starts (``worker_init``):
every pool process then writes its samples to files in a folder of this worker, and the main
process sums them when scraped. Counters of a pool process that was replaced stay counted.
Jobs, faces and webhooks are not here: the API's /metrics reads them from the database.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import psutil
from celery.signals import worker_init, worker_process_shutdown, worker_ready, worker_shutdown
from django.conf import settings
from prometheus_client import CollectorRegistry, make_wsgi_app, multiprocess, values

from metrics import search
from metrics.exposition import guarded

log = logging.getLogger(__name__)

_state: dict = {}


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def enabled() -> bool:
    return settings.FACECORE_WORKER_METRICS_PORT > 0


def folder_for(pid: int) -> Path:
    return Path(settings.FACECORE_METRICS_DIR) / f"worker-{pid}"


def forget_dead_workers(root: Path) -> None:
    """Remove the folders of workers that died without cleaning up (their pid is gone)."""
    for folder in root.glob("worker-*"):
        pid = folder.name.removeprefix("worker-")
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def use_multiprocess_mode(folder: Path) -> None:
    """From now on, metrics created in this process and its forks write to ``folder``."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    values.ValueClass = values.MultiProcessValue()
    search.reset()


def serve(folder: Path, host: str, port: int, token: str) -> _Server:
    """The summed metrics of ``folder`` over HTTP, in a daemon thread."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(folder))
    server = make_server(
        host, port, guarded(make_wsgi_app(registry), token), server_class=_Server, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True).start()
    return server


@worker_init.connect
def prepare(sender=None, **kwargs) -> None:
    if not enabled():
        return
    folder = folder_for(os.getpid())
    forget_dead_workers(folder.parent)
    use_multiprocess_mode(folder)
    _state["folder"] = folder


@worker_ready.connect
def start(sender=None, **kwargs) -> None:
    if "folder" not in _state:
        return
    host, port = settings.FACECORE_WORKER_METRICS_HOST, settings.FACECORE_WORKER_METRICS_PORT
    try:
        _state["server"] = serve(_state["folder"], host, port, settings.FACECORE_METRICS_TOKEN)
    except OSError:
        log.exception("worker metrics not served on %s:%s", host, port)
        return
    log.info("worker metrics on http://%s:%s/metrics", host, port)


@worker_process_shutdown.connect
def pool_process_gone(pid=None, **kwargs) -> None:
    if "folder" in _state and pid:
        multiprocess.mark_process_dead(pid, str(_state["folder"]))


@worker_shutdown.connect
def stop(sender=None, **kwargs) -> None:
    server = _state.pop("server", None)
    if server is not None:
        server.shutdown()
        server.server_close()
    folder = _state.pop("folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
