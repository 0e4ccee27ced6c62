"""Configuration (fast tier): settings are parsed strictly, the embedded database starts only
when a process first connects, and the error-code table is complete and documented."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.errors import HTTP_STATUS, ErrorCode

ROOT = Path(__file__).resolve().parents[2]
LOAD_SETTINGS = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("FACECORE_KEEP_ORIGINALS", "yes please"),
        ("FACECORE_WEBHOOK_MAX_ATTEMPTS", "many"),
        ("FACECORE_MAX_IMAGE_BYTES", "0"),
        ("FACECORE_DET_PROB_THRESHOLD", "1.5"),
        ("FACECORE_DEFAULT_MODEL", "resnet"),
    ],
)
def test_a_malformed_setting_stops_the_process_naming_the_variable(tmp_path, variable, value):
    result = run_python(LOAD_SETTINGS, FACECORE_DATA_DIR=str(tmp_path), **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


def test_loading_settings_and_running_checks_does_not_start_the_embedded_database(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "FACECORE_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "pgdata").exists(), "manage.py check started the embedded PostgreSQL"


def test_every_error_code_has_a_status_and_is_documented():
    assert set(HTTP_STATUS) == set(ErrorCode)
    documented = set(re.findall(r"`([a-z0-9_]+)`", (ROOT / "docs" / "api.md").read_text()))
    missing = {code.value for code in ErrorCode} - documented
    assert not missing, f"error codes missing from docs/api.md: {sorted(missing)}"


def test_processes_starting_at_once_all_attach_to_the_embedded_database(tmp_path):
    """runall starts its worker and server at the same moment (here: 8 processes)."""
    code = (
        "import django; django.setup(); from django.db import connection; "
        "connection.ensure_connection(); print(connection.cursor().connection.info.server_version)"
    )
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", FACECORE_DATA_DIR=str(tmp_path))
    first = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    # Users that died without telling pgserver (each starting process prunes them: a write).
    children = [subprocess.Popen(["true"]) for _ in range(20)]
    dead = [child.pid for child in children if child.wait() == 0]
    (tmp_path / "pgdata" / ".handle_pids.json").write_text(json.dumps(dead))
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [(p.wait(timeout=180), *p.communicate()) for p in processes]
    failed = [err[-800:] for code_, out, err in results if code_ != 0]
    assert not failed, failed
