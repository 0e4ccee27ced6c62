"""Fixtures of the browser tests: the production-style server (gunicorn, DEBUG off, whitenoise)
on the test database, the S3 server and the Redis broker of the pipeline tests with a real
worker and models, and a headless system Chromium. Skipped, saying why, where Chromium or its
driver is missing."""

from __future__ import annotations

import pytest

from tests.browser.browser import (
    INSTALL_HINT,
    Screenshots,
    database_url,
    find_browser,
    gunicorn,
    server_environment,
    start_chromium,
    temp_profile,
)
from tests.conftest import REDIS_URL


@pytest.fixture(scope="session")
def chromium_paths() -> tuple[str, str]:
    found = find_browser()
    if found is None:
        pytest.skip(f"browser tests need Chromium and chromedriver: {INSTALL_HINT}")
    pytest.importorskip("selenium", reason="pip install selenium (requirements-dev.txt)")
    return found


@pytest.fixture
def browser(chromium_paths):
    driver = start_chromium(*chromium_paths, temp_profile())
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def gunicorn_server(transactional_db, redis_worker, queue_names, tmp_path):
    """gunicorn as docker-compose runs it, on this test's database, store, broker and queues."""
    from django.conf import settings
    from django.db import connection

    connection.ensure_connection()
    env = server_environment(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "CELERY_BROKER_URL": REDIS_URL,
            "FACECORE_FACES_QUEUE": queue_names["faces"],
            "FACECORE_WEBHOOKS_QUEUE": queue_names["webhooks"],
            "S3_ENDPOINT": settings.S3_ENDPOINT,
            "S3_ACCESS_KEY": settings.S3_ACCESS_KEY,
            "S3_SECRET_KEY": settings.S3_SECRET_KEY,
            "S3_BUCKET": settings.S3_BUCKET,
            "FACECORE_THROTTLE_RATE": "100000/minute",
        },
        tmp_path / "server-data",
    )
    with gunicorn(env, tmp_path) as server:
        yield server
    connection.close()


@pytest.fixture
def screenshots(tmp_path) -> Screenshots:
    return Screenshots(tmp_path / "screenshots")
