"""Image bytes -> ``CheckedImage``: size, format and pixel limits from the header only, before
anything is stored (the full decode happens in the worker)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from facecore import decode
from facecore.errors import ImageError
from facecore.settings import EngineSettings
from infra.errors import ErrorCode, ServiceError

CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
}


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    format: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.format, "application/octet-stream")


def engine_settings() -> EngineSettings:
    """The engine limits the API applies (the same environment the workers' engine reads)."""
    return settings.FACECORE_ENGINE


def max_image_bytes() -> int:
    return engine_settings().max_image_bytes


def too_large(size: int | None, limit: int) -> ServiceError:
    what = f"Image is {size} bytes" if size else "Image is too large"
    return ServiceError(ErrorCode.IMAGE_TOO_LARGE, f"{what}; the limit is {limit} bytes.")


def image_error(exc: ImageError) -> ServiceError:
    return ServiceError(exc.code, exc.message)


def checked_image(data: bytes) -> CheckedImage:
    """Refuse oversized, non-image, unsupported or too-many-pixel data with its code; else the facts."""
    limit = max_image_bytes()
    if len(data) > limit:
        raise too_large(len(data), limit)
    try:
        fmt, width, height = decode.probe(data, engine_settings())
    except ImageError as exc:
        raise image_error(exc) from exc
    return CheckedImage(data=data, format=fmt, width=width, height=height)
