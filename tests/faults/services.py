"""Private servers for the fault tests, each its own process group on free loopback ports so a
test can kill it without touching the machine's shared services: a Redis without persistence,
a RabbitMQ node with its own data folder, and a whole Celery worker (with beat) as docker-compose
runs it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.pipeline.services import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]


class RedisServer(ServerProcess):
    """``redis-server`` keeping nothing on disk: a restart loses every message."""

    name = "redis"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self._port = free_port()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        binary = shutil.which("redis-server") or "redis-server"
        return [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


class RabbitNode(ServerProcess):
    """A RabbitMQ node of its own (name, ports, data folder); durable queues survive a restart.

    Debian's ``rabbitmq-server`` runs the node as the ``rabbitmq`` user, so the node gets a
    folder of its own directly under the system's temporary folder (pytest's are private to
    root), handed to that user and removed by ``remove``.
    """

    name = "rabbitmq"

    def __init__(self, workdir: Path) -> None:
        super().__init__(Path(tempfile.mkdtemp(prefix="facecore-rabbitmq-")))
        workdir = self.workdir
        self._port, self.dist_port = free_port(), free_port()
        self.node = f"facecore-test-{self._port}@localhost"
        for folder in ("mnesia", "log"):
            (workdir / folder).mkdir(exist_ok=True)
        (workdir / "enabled_plugins").write_text("[].")
        (workdir / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self._port}\n")
        (workdir / "rabbitmq-env.conf").write_text("")
        shutil.chown(workdir, "rabbitmq", "rabbitmq")
        for path in workdir.rglob("*"):
            shutil.chown(path, "rabbitmq", "rabbitmq")

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def remove(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def stop(self, kill: bool = True) -> None:
        """The node itself runs in a session of its own (Debian's script switches user), so it is
        found by its node name, and SIGKILLed (a crash) or SIGTERMed with the script."""
        import psutil

        nodes = []
        for proc in psutil.process_iter(["name"]):
            try:
                if proc.environ().get("RABBITMQ_NODENAME") == self.node:
                    nodes.append(proc)
            except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
        for proc in nodes:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill() if kill else proc.terminate()
        psutil.wait_procs(nodes, timeout=30)
        super().stop(kill)

    def command(self) -> list[str]:
        return [shutil.which("rabbitmq-server") or "rabbitmq-server"]

    def env(self) -> dict[str, str]:
        w = self.workdir
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": str(w / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(w / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(w / "mnesia"),
            "RABBITMQ_LOG_BASE": str(w / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(w / "enabled_plugins"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }


def rabbitmq_available() -> bool:
    return bool(shutil.which("rabbitmq-server")) and os.geteuid() == 0


class Worker(ServerProcess):
    """``celery -A config worker -B`` with the service's settings from ``environ``; its port is
    none, so it is ready when its heartbeat is (see ``wait_ready``)."""

    name = "worker"

    def __init__(self, workdir: Path, environ: dict[str, str], queues: list[str]) -> None:
        super().__init__(workdir)
        self.environ = environ
        self.queues = queues

    @property
    def port(self) -> int:
        return 0

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(self.queues),
            "--concurrency", "1", "--loglevel", "INFO", "--hostname", f"fault-test-{os.getpid()}@%h",
            "--beat", "--schedule", str(self.workdir / "celerybeat-schedule"),
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.environ, "PYTHONUNBUFFERED": "1"}

    def start(self, timeout: float = 0) -> None:
        self._log = open(self.workdir / f"{self.name}.log", "ab")  # noqa: SIM115 (closed in stop)

        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.env(), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def log_tail(self, lines: int = 40) -> str:
        path = self.workdir / f"{self.name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
