"""Production defaults (fast tier): no published secret with DEBUG off, DEBUG off unless asked,
throttling per API key, admin login lockout, and the health endpoints."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from images.models import WorkerHeartbeat

from .test_configuration import run_python

PRINT_KEY = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"


def test_a_published_placeholder_secret_with_debug_off_stops_the_process(tmp_path):
    result = run_python(PRINT_KEY, FACECORE_DATA_DIR=str(tmp_path), DJANGO_SECRET_KEY="change-me")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr
    allowed = run_python(
        PRINT_KEY, FACECORE_DATA_DIR=str(tmp_path), DJANGO_SECRET_KEY="change-me", DJANGO_DEBUG="true"
    )
    assert allowed.returncode == 0, allowed.stderr


def test_debug_is_off_by_default_and_a_missing_secret_is_made_once_and_kept_private(tmp_path):
    env = {"FACECORE_DATA_DIR": str(tmp_path), "DJANGO_SECRET_KEY": ""}
    first, second = run_python(PRINT_KEY, **env), run_python(PRINT_KEY, **env)
    assert first.returncode == second.returncode == 0, first.stderr
    debug, key = first.stdout.split()
    assert debug == "False"
    assert len(key) >= 50 and second.stdout == first.stdout
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_requests_beyond_the_rate_of_an_api_key_are_throttled(api, other_api):
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    original = SimpleRateThrottle.THROTTLE_RATES
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "application": "3/minute"}
    SimpleRateThrottle.THROTTLE_RATES = rates  # read when DRF's settings were first loaded
    try:
        codes = [api.get("/api/v1/images").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        last = api.get("/api/v1/images")
        assert last.json()["code"] == "throttled" and int(last["Retry-After"]) > 0
        assert other_api.get("/api/v1/images").status_code == 200, "another key has its own budget"
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
        cache.clear()


def test_admin_logins_are_locked_out_after_repeated_failures(service, django_user_model, settings):
    django_user_model.objects.create_superuser("reviewer", "r@example.com", "right-password")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/?next=/admin/", {"username": "reviewer", "password": "wrong"})
    locked = client.post("/admin/login/?next=/admin/", {"username": "reviewer", "password": "right-password"})
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    other = Client().post(
        "/admin/login/?next=/admin/",
        {"username": "reviewer", "password": "right-password"},
        REMOTE_ADDR="10.9.9.9",
    )
    assert other.status_code == 302, "the lockout is per user name and address"


def test_healthz_answers_without_touching_anything_and_readyz_wants_a_live_worker(service):
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    checks = not_ready.json()["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"] and checks["object_store"]["ok"]
    assert not checks["worker"]["ok"]
    now = timezone.now()
    WorkerHeartbeat.objects.create(hostname="celery@test", started_at=now, last_seen_at=now)
    assert client.get("/readyz").status_code == 200
    WorkerHeartbeat.objects.update(last_seen_at=now - timedelta(minutes=5))
    assert client.get("/readyz").status_code == 503


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_need_no_key_and_refuse_other_methods(service, path):
    assert Client().post(path).status_code == 405
