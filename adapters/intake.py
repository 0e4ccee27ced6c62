"""A multipart file part as a checked image (images.checks), for every compatibility layer.

The part's file name and content type are not looked at: facecore reads the format from the
bytes. Errors about the image name the part it came in."""

from __future__ import annotations

from images.checks import CheckedImage, checked_image, max_image_bytes, too_large
from infra.errors import ServiceError


def is_upload(value) -> bool:
    return hasattr(value, "read") and hasattr(value, "size")


def upload_bytes(upload) -> bytes:
    """The part's bytes, refused (image_too_large) before reading when over FACECORE_MAX_IMAGE_BYTES."""
    limit = max_image_bytes()
    if upload.size > limit:
        raise too_large(upload.size, limit)
    return upload.read()


def checked_upload(upload, name: str | None = None) -> CheckedImage:
    """The part as a checked image; ``name`` prefixes the message of a refusal."""
    try:
        return checked_image(upload_bytes(upload))
    except ServiceError as exc:
        if name is None:
            raise
        raise exc.prefixed(name) from exc
