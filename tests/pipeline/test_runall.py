"""The quick start: ``manage.py runall`` on embedded defaults (embedded PostgreSQL and Valkey
broker, a local-folder store, in a fresh data folder) takes an upload to ``done``, restarts the
children that die (``kill -9`` of a whole process group), and stops everything when stopped."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from tests.pipeline.conftest import JOB_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL_SERVICES = ("DATABASE_URL", "CELERY_BROKER_URL", "S3_ENDPOINT", "FACECORE_OBJECTS_DIR")
KEY_LINE = re.compile(r"API key \(shown once\): (\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_until_key(process: subprocess.Popen, deadline: float) -> str:
    assert process.stdout is not None
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = KEY_LINE.search(line)
        if match:
            return match.group(1)
    raise AssertionError("runall printed no API key:\n" + "".join(seen[-30:]))


@contextlib.contextmanager
def started_runall(data_dir: Path, **extra_env: str) -> Iterator[tuple[subprocess.Popen, str, str]]:
    """``manage.py runall`` on embedded defaults in ``data_dir`` (skipped without the default
    model's weights): ``(process, base URL, its API key)``; killed with its children after."""
    from facecore.fetch import weights_present
    from facecore.settings import EngineSettings

    settings = EngineSettings.from_env()
    if not weights_present(settings.default_model, settings.models_dir):
        pytest.skip(f"{settings.default_model} weights missing: run `make models`")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in EXTERNAL_SERVICES}
    env.update(FACECORE_DATA_DIR=str(data_dir), FACECORE_PORT=str(port), PYTHONUNBUFFERED="1", **extra_env)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runall"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        key = read_until_key(process, time.monotonic() + 120)
        # Drained for as long as it runs (a full pipe would block runall and its children); the
        # lines stay readable in ``process.output``.
        process.output = []  # type: ignore[attr-defined]
        threading.Thread(target=drain, args=(process,), daemon=True).start()
        yield process, f"http://127.0.0.1:{port}", key
    finally:
        if process.poll() is None:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()


def drain(process: subprocess.Popen) -> None:
    for line in process.stdout:
        process.output.append(line)


@pytest.fixture
def runall(tmp_path: Path):
    with started_runall(tmp_path / "data") as (process, base, key):
        yield process, base, key, tmp_path / "data" / "pgdata"


def wait_for_http(url: str, key: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if requests.get(url, headers={"X-API-Key": key}, timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or its first answer is slow
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} never answered")


def test_runall_serves_the_quick_start_and_stops_cleanly(runall, face_jpeg: bytes) -> None:
    process, base, key, pgdata = runall
    wait_for_http(f"{base}/api/v1/images", key, time.monotonic() + 60)

    answer = requests.post(
        f"{base}/api/v1/images", headers={"X-API-Key": key}, files={"image": ("a.jpg", face_jpeg)}, timeout=30
    )
    assert answer.status_code == 202, answer.text
    status_url = answer.json()["status_url"]
    deadline = time.monotonic() + JOB_TIMEOUT
    status = {}
    while time.monotonic() < deadline:
        status = requests.get(status_url, headers={"X-API-Key": key}, timeout=10).json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert status["status"] == "done", status
    assert len(status["faces"]) == 1

    children = psutil.Process(process.pid).children(recursive=True)
    assert len(children) >= 2, "runall should run a worker and a server"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) is not None
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, f"left running after SIGTERM: {[p.cmdline() for p in alive]}"
    assert wait_until_gone(embedded_postgres(pgdata), timeout=30) == [], (
        "the embedded PostgreSQL kept running"
    )
    assert not any("exited (" in line for line in process.output), "no child may have died"


def embedded_postgres(pgdata: Path) -> list[psutil.Process]:
    return [
        proc
        for proc in psutil.process_iter(["name", "cmdline"])
        if proc.info["name"] == "postgres" and str(pgdata) in (proc.info["cmdline"] or [])
    ]


def wait_until_gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return alive


def upload_until_done(base: str, key: str, photo: bytes, deadline: float) -> dict:
    """Upload (retrying while the server is not there yet) and poll to the end."""
    while True:
        try:
            answer = requests.post(
                f"{base}/api/v1/images",
                headers={"X-API-Key": key},
                files={"image": ("a.jpg", photo)},
                timeout=30,
            )
            if answer.status_code == 202:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "the API never came back"
        time.sleep(0.5)
    status_url = answer.json()["status_url"]
    while time.monotonic() < deadline:
        status = requests.get(status_url, headers={"X-API-Key": key}, timeout=10).json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"the job did not end: {status}")


def child_of(process: subprocess.Popen, marker: str) -> psutil.Process:
    """runall's direct child whose command line contains ``marker``."""
    for child in psutil.Process(process.pid).children():
        if marker in " ".join(child.cmdline()):
            return child
    raise AssertionError(f"runall has no child running {marker}")


def test_children_killed_with_their_whole_process_group_are_restarted(runall, face_jpeg: bytes) -> None:
    """A user leaves make run running for months: an out-of-memory kill or a crash of the worker,
    the broker or the API server is followed by a restart with a log line, never by a stop."""
    process, base, key, _ = runall
    deadline = time.monotonic() + JOB_TIMEOUT
    assert upload_until_done(base, key, face_jpeg, deadline)["status"] == "done"

    for marker in ("celery", "valkey-server", "gunicorn"):
        child = child_of(process, marker)
        os.killpg(child.pid, signal.SIGKILL)  # the child with its pool / worker processes
        child.wait(timeout=30)

    deadline = time.monotonic() + JOB_TIMEOUT * 2
    status = upload_until_done(base, key, face_jpeg, deadline)
    assert status["status"] == "done", status
    assert process.poll() is None, "runall must keep running"
    restarted = "".join(process.output)
    for name in ("worker", "broker", "web"):
        assert f"runall: {name} exited (killed by SIGKILL); restarting it in" in restarted, restarted[-3000:]
        assert f"runall: {name} restarted" in restarted
    for marker in ("celery", "valkey-server", "gunicorn"):
        assert child_of(process, marker).is_running()
