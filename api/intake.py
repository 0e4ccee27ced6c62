"""Turn an upload request into checked image bytes, cheaply, before anything is stored.

Three input forms: multipart field ``image``, JSON ``image_base64`` or JSON ``image_url`` (fetched
here, during the request, so a bad URL is a 400 at once). The header-only probe refuses
non-images, unsupported formats and pixel bombs without decoding pixels.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from django.conf import settings as django_settings

from api.errors import ApiError
from api.safe_http import ResponseTooLarge, UnsafeUrl, fetch_bytes
from facecore import decode
from facecore.errors import ImageError
from facecore.settings import EngineSettings

IMAGE_SOURCES = ("image", "image_base64", "image_url")

ERROR_STATUS = {
    ImageError.NOT_AN_IMAGE: 400,
    ImageError.UNSUPPORTED_FORMAT: 415,
    ImageError.IMAGE_TOO_LARGE: 413,
    ImageError.TOO_MANY_PIXELS: 413,
}

CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
}

_DATA_URI = re.compile(r"^data:[\w/+.-]+;base64,", re.IGNORECASE)


@dataclass
class CheckedImage:
    data: bytes
    format: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.format, "application/octet-stream")


def engine_settings() -> EngineSettings:
    return EngineSettings()


def image_error(exc: ImageError) -> ApiError:
    return ApiError(exc.code, exc.message, ERROR_STATUS.get(exc.code, 400))


def too_large(size: int | None, limit: int) -> ApiError:
    what = f"Image is {size} bytes" if size else "Image is too large"
    return ApiError(ImageError.IMAGE_TOO_LARGE, f"{what}; the limit is {limit} bytes.", 413)


def probe(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) from the header only; raises ImageError with a stable code."""
    return decode.probe(data, engine_settings())


def read_source(request) -> bytes:
    """The raw bytes from whichever single image field the request carries."""
    limit = engine_settings().max_image_bytes
    present = [name for name in IMAGE_SOURCES if request.data.get(name) not in (None, "")]
    if not present:
        raise ApiError(
            "missing_image",
            "Send the image as multipart field 'image', or JSON 'image_base64' or 'image_url'.",
        )
    if len(present) > 1:
        raise ApiError("invalid_request", f"Send exactly one of {', '.join(IMAGE_SOURCES)}; got {present}.")
    source = present[0]
    value = request.data[source]
    if source == "image":
        if not hasattr(value, "read"):
            raise ApiError("invalid_request", "Field 'image' must be a file upload (multipart/form-data).")
        if value.size > limit:
            raise too_large(value.size, limit)
        return value.read()
    if source == "image_base64":
        if not isinstance(value, str):
            raise ApiError("invalid_request", "'image_base64' must be a string.")
        text = _DATA_URI.sub("", value.strip(), count=1)
        if len(text) * 3 // 4 > limit + 3:
            raise too_large(len(text) * 3 // 4, limit)
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError("invalid_base64", "'image_base64' is not valid base64.") from exc
    if not isinstance(value, str):
        raise ApiError("invalid_request", "'image_url' must be a string.")
    try:
        return fetch_bytes(value, max_bytes=limit)
    except ResponseTooLarge as exc:
        raise too_large(exc.size, limit) from exc
    except UnsafeUrl as exc:
        raise ApiError("bad_url", str(exc)) from exc


def checked_image(request) -> CheckedImage:
    data = read_source(request)
    limit = engine_settings().max_image_bytes
    if len(data) > limit:
        raise too_large(len(data), limit)
    try:
        fmt, width, height = probe(data)
    except ImageError as exc:
        raise image_error(exc) from exc
    return CheckedImage(data=data, format=fmt, width=width, height=height)


def callback_allowed(url: str) -> None:
    """Refuse callback URLs that point at private addresses (checked again at delivery)."""
    from api.safe_http import check_url

    try:
        check_url(url, django_settings.FACECORE_ALLOW_PRIVATE_URLS)
    except UnsafeUrl as exc:
        raise ApiError("bad_url", f"callback_url refused: {exc}") from exc
