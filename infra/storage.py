"""The object store for originals, previews and face crops: S3/MinIO when S3_ENDPOINT is set, else a folder.

One small interface (put/get/delete/exists). Faults are mapped to two exceptions so callers
can tell a missing object (permanent) from an unreachable store (transient, retried).
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol

from django.conf import settings


class StorageUnavailable(RuntimeError):
    """The store could not be reached or answered with a server error; worth retrying."""

    code = "storage_unavailable"


class StoreUnreachable(StorageUnavailable):
    """The store's endpoint did not answer at all (every object fails alike, not just this one)."""


class ObjectNotFound(KeyError):
    """The object does not exist (e.g. deleted by the privacy setting)."""


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Remove ``key``; no error if it is already gone."""
        ...

    def exists(self, key: str) -> bool: ...


class LocalStore:
    """Objects as files under ``root``; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"Object key escapes the store: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise StorageUnavailable(f"Cannot write {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise StorageUnavailable(f"Cannot read {key}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"Cannot delete {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Store:
    """Objects in one S3 bucket through the ``minio`` client; creates the bucket if missing."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = False,
        region: str | None = None,
    ) -> None:
        from minio import Minio

        if "://" in endpoint:
            scheme, endpoint = endpoint.split("://", 1)
            secure = scheme == "https"
        self.bucket = bucket
        self.client = Minio(
            endpoint.rstrip("/"), access_key=access_key, secret_key=secret_key, secure=secure, region=region
        )
        self._bucket_ready = False
        self._lock = threading.Lock()

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._lock:
            if not self._bucket_ready:
                self._call("", self._create_bucket)
                self._bucket_ready = True

    def _create_bucket(self) -> None:
        from minio.error import S3Error

        if self.client.bucket_exists(self.bucket):
            return
        try:
            self.client.make_bucket(self.bucket)
        except S3Error as exc:  # created concurrently by another process
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def _call(self, key: str, fn, *args, **kwargs):
        from minio.error import S3Error
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, **kwargs)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectNotFound(key) from exc
            raise StorageUnavailable(f"S3 error {exc.code}: {exc.message}") from exc
        except (HTTPError, OSError) as exc:
            raise StoreUnreachable(f"S3 endpoint unreachable: {exc}") from exc

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._ensure_bucket()
        self._call(
            key,
            self.client.put_object,
            bucket_name=self.bucket,
            object_name=key,
            data=io.BytesIO(data),
            length=len(data),
            content_type=content_type,
        )

    def get(self, key: str) -> bytes:
        self._ensure_bucket()

        def read() -> bytes:
            response = self.client.get_object(bucket_name=self.bucket, object_name=key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return self._call(key, read)

    def delete(self, key: str) -> None:
        self._ensure_bucket()
        self._call(key, self.client.remove_object, bucket_name=self.bucket, object_name=key)

    def exists(self, key: str) -> bool:
        self._ensure_bucket()
        try:
            self._call(key, self.client.stat_object, bucket_name=self.bucket, object_name=key)
        except ObjectNotFound:
            return False
        return True


_store: ObjectStore | None = None
_store_config: tuple | None = None
_store_lock = threading.Lock()


def _config() -> tuple:
    return (
        settings.S3_ENDPOINT,
        settings.S3_ACCESS_KEY,
        settings.S3_SECRET_KEY,
        settings.S3_BUCKET,
        settings.S3_SECURE,
        settings.S3_REGION,
        str(settings.FACECORE_OBJECTS_DIR),
    )


def get_store() -> ObjectStore:
    """The configured store, one per process (rebuilt if the settings change, e.g. in tests)."""
    global _store, _store_config
    config = _config()
    with _store_lock:
        if _store is None or _store_config != config:
            endpoint, access, secret, bucket, secure, region, objects_dir = config
            if endpoint:
                _store = S3Store(endpoint, access, secret, bucket, secure=secure, region=region)
            else:
                _store = LocalStore(Path(objects_dir))
            _store_config = config
        return _store


def original_key(image_id) -> str:
    return f"images/{image_id}/original"


def annotated_key(image_id) -> str:
    return f"images/{image_id}/annotated.jpg"


def crop_key(face_id) -> str:
    return f"faces/{face_id}/crop.jpg"
