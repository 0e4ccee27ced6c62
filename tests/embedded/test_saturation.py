"""A saturated service answers 503 ``service_busy`` with ``Retry-After``, never a 500.

The real server (gunicorn with config/gunicorn.py, as make run and compose run it) on the test
database, its pool cut to one connection: while that connection waits on a lock, the next
request finds no free connection within FACECORE_DB_POOL_TIMEOUT and is told to come back."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
import requests
from django.db import OperationalError, connection

from api.errors import database_error
from infra.errors import ErrorCode
from tests.browser.browser import database_url, gunicorn, server_environment
from tests.factories import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.real_parts
def test_a_request_that_finds_no_free_connection_is_answered_503_with_retry_after(tmp_path):
    connection.ensure_connection()
    _, key = application("saturated")
    env = server_environment(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # nothing here is queued
            "FACECORE_DB_POOL_SIZE": "1",
            "FACECORE_DB_POOL_TIMEOUT": "1",
            "FACECORE_WEB_WORKERS": "1",
            "FACECORE_WEB_THREADS": "4",
        },
        tmp_path / "data",
    )
    params = connection.get_connection_params()
    conninfo = {k: params[k] for k in ("dbname", "user", "host", "port") if params.get(k)}
    with gunicorn(env, tmp_path) as server:
        url = f"{server.base}/api/v1/images"
        headers = {"X-API-Key": key}
        assert requests.get(url, headers=headers, timeout=30).status_code == 200
        answers: dict[str, requests.Response] = {}
        with psycopg.connect(**conninfo) as locker:
            locker.execute("LOCK TABLE tenants_apikey IN ACCESS EXCLUSIVE MODE")
            first = threading.Thread(
                target=lambda: answers.setdefault("first", requests.get(url, headers=headers, timeout=60))
            )
            first.start()
            time.sleep(1.0)  # the first request now holds the only connection, waiting on the lock
            busy = requests.get(url, headers=headers, timeout=30)
            locker.rollback()
        first.join(timeout=60)
    assert busy.status_code == 503, busy.text
    assert busy.json()["code"] == "service_busy", busy.text
    assert busy.headers["Retry-After"] == "5"
    assert answers["first"].status_code == 200, "the waiting request still ends well"


def test_a_pool_timeout_and_a_full_server_are_busy_other_connection_faults_are_unavailable():
    from psycopg_pool import ConnectionPool, PoolTimeout

    params = connection.get_connection_params()
    conninfo = " ".join(f"{k}={params[k]}" for k in ("dbname", "user", "host", "port") if params.get(k))
    with (
        ConnectionPool(conninfo, min_size=1, max_size=1, timeout=0.2) as pool,
        pool.connection(),
        pytest.raises(PoolTimeout) as raised,
    ):
        pool.getconn()

    wrapped = OperationalError(str(raised.value))
    wrapped.__cause__ = raised.value
    assert database_error(wrapped).code == ErrorCode.SERVICE_BUSY
    assert (
        database_error(OperationalError("FATAL: sorry, too many clients already")).code
        == ErrorCode.SERVICE_BUSY
    )
    down = OperationalError("connection to server on socket failed: No such file or directory")
    assert database_error(down).code == ErrorCode.DATABASE_UNAVAILABLE
    assert database_error(down).status == 503
