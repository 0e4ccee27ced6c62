"""The files of a bulk import (recognition.bulk): a folder or a zip archive with one folder per
subject (the folder's name is the subject's), or uploaded files each with its subject."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from infra.errors import ErrorCode, ServiceError

IGNORED = ("__MACOSX",)


def _ignored(parts: tuple[str, ...]) -> bool:
    """Hidden files and folders (.DS_Store, ._x) and macOS resource forks."""
    return any(part.startswith(".") or part in IGNORED for part in parts)


def folder_files(root: Path) -> list[tuple[str, str, Path]]:
    """``(subject, path relative to root, path)`` of every file under ``root/<subject>/``, sorted;
    files directly in ``root`` get subject "" (refused: they name nobody)."""
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not _ignored(rel.parts):
            found.append((rel.parts[0] if len(rel.parts) > 1 else "", str(rel), path))
    return found


def _bad_archive(message: str) -> ServiceError:
    return ServiceError(ErrorCode.BAD_ARCHIVE, message)


def open_zip(stream: IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _bad_archive(f"The archive is not a readable zip file ({exc}).") from exc


UTF8_FLAG = 0x800
"""Zip's "names are UTF-8" flag; without it the format says cp437."""


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it. Many zip tools (Info-ZIP's ``zip``, macOS
    Finder) store UTF-8 names without setting the flag, which Python then reads as cp437
    ("José" becomes "Jos├⌐"): such a name is decoded as UTF-8 when its bytes are valid UTF-8."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return info.filename


def zip_members(archive: zipfile.ZipFile) -> list[tuple[str, zipfile.ZipInfo]]:
    """``(subject, member)`` for each file of the archive. One common top folder holding the
    subject folders (a zipped ``people/`` folder) is looked through."""
    members = []
    for info in archive.infolist():
        info.filename = member_name(info)  # reading goes by the header's own (orig_filename)
        parts = PurePosixPath(info.filename).parts
        if ".." in parts or info.filename.startswith(("/", "\\")):
            raise _bad_archive(f"Unsafe path in the archive: {info.filename!r}.")
        if info.is_dir() or not parts or _ignored(parts):
            continue
        members.append((parts, info))
    tops = {parts[0] for parts, _ in members}
    strip = len(tops) == 1 and all(len(parts) >= 3 for parts, _ in members)
    found = []
    for parts, info in members:
        inner = parts[1:] if strip else parts
        found.append((inner[0] if len(inner) > 1 else "", info))
    return found


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The member's bytes, never more than ``limit`` + 1 (a declared size can lie: zip bombs);
    ServiceError ``image_too_large`` beyond, ``bad_archive`` for a damaged member."""
    if info.file_size > limit:
        raise ServiceError(ErrorCode.IMAGE_TOO_LARGE, f"{info.file_size} bytes; the limit is {limit} bytes.")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise _bad_archive(f"{info.filename}: cannot be extracted ({exc}).") from exc
    if len(data) > limit:
        raise ServiceError(ErrorCode.IMAGE_TOO_LARGE, f"More than {limit} bytes; the limit is {limit} bytes.")
    return data


def zip_files(archive: zipfile.ZipFile, limit: int) -> Iterator[tuple[str, str, bytes | ServiceError]]:
    """``(subject, name, bytes or the error that stopped reading it)``, one member at a time."""
    for subject, info in zip_members(archive):
        try:
            yield subject, info.filename, read_member(archive, info, limit)
        except ServiceError as exc:  # this file is refused with its code; the others go on
            yield subject, info.filename, exc
