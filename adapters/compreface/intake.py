"""CompreFace's two image forms: a multipart file part (``file``, or ``source_image`` and
``target_image``) or, in a JSON object body, the same names carrying base64 strings.

A file part is read as every layer reads it (adapters.intake). A URL string is refused: CompreFace takes none, and facecore's own API
(``image_url``) is the place for URLs.
"""

from __future__ import annotations

import binascii

from adapters.compreface.errors import Refusal
from adapters.intake import is_upload, upload_bytes
from api.intake import decode_base64
from images.checks import CheckedImage, checked_image, max_image_bytes, too_large
from infra.errors import ErrorCode, ServiceError


def _is_json(request) -> bool:
    return (request.content_type or "").split(";")[0].strip().lower() == "application/json"


def _image_bytes(request, name: str) -> bytes:
    data = request.data
    if not isinstance(data, dict):
        raise ServiceError(ErrorCode.INVALID_REQUEST, "Send a JSON object or a multipart form.")
    values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
    values = [value for value in values if value not in (None, "")]
    if not values:
        if _is_json(request):
            raise Refusal(5, f"Field {name} cannot be empty")
        raise Refusal(34, f"Required part {name} is missing")
    if len(values) > 1:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"Send one '{name}', not {len(values)}.")
    value, limit = values[0], max_image_bytes()
    if is_upload(value):
        return upload_bytes(value)
    if not isinstance(value, str):
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{name}' must be a file or a base64 string.")
    if value.startswith(("http://", "https://")):
        raise ServiceError(
            ErrorCode.INVALID_BASE64,
            f"'{name}' is a URL; CompreFace's API takes a file or base64. "
            "facecore's own API takes URLs (image_url, docs/api.md).",
        )
    if len(value) * 3 // 4 > limit * 1.05 + 3:
        raise too_large(len(value) * 3 // 4, limit)
    try:
        return decode_base64(value)
    except (binascii.Error, ValueError) as exc:
        raise ServiceError(ErrorCode.INVALID_BASE64, "Provided value is not Base64") from exc


def request_image(request, name: str = "file") -> CheckedImage:
    """The checked image under ``name``; errors about it name the field (but ``file``)."""
    try:
        return checked_image(_image_bytes(request, name))
    except ServiceError as exc:
        if name == "file":
            raise
        raise exc.prefixed(name) from exc
