"""Reading the image out of a request, cheaply, before anything is stored.

Three input forms: multipart field ``image``, JSON ``image_base64`` or JSON ``image_url`` (fetched
here, during the request, so a bad URL is a 400 at once). Recognition's endpoints name their
fields (``source_image``, ``target_image``) and accept ``<name>``, ``<name>_base64`` or
``<name>_url``. The header-only check (images.checks) refuses non-images, unsupported formats
and pixel bombs without decoding pixels.
"""

from __future__ import annotations

import base64
import binascii
import re

from django.conf import settings

from images.checks import CheckedImage, checked_image, max_image_bytes, too_large
from infra.errors import ErrorCode, ServiceError
from infra.safe_http import ResponseTooLarge, UnsafeUrl, check_url, fetch_bytes

_DATA_URI = re.compile(r"^data:[\w/+.-]+;base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def decode_base64(text: str) -> bytes:
    """Standard or URL-safe base64, with or without line breaks and padding (MIME, JWT-style)."""
    text = _WHITESPACE.sub("", _DATA_URI.sub("", text.strip(), count=1))
    if "-" in text or "_" in text:
        text = text.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    return base64.b64decode(text, validate=True)


def _sources(data, name: str, accept_strings: bool) -> dict[str, object]:
    """The image fields present under ``name``: file, base64 and/or URL (empty ones ignored)."""
    value = data.get(name)
    found: dict[str, object] = {}
    if hasattr(data, "getlist") and len(data.getlist(name)) > 1:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"Send one '{name}', not {len(data.getlist(name))}.")
    if hasattr(value, "read"):
        found["file"] = value
    elif isinstance(value, str) and value and accept_strings:
        # Recognition's fields also take a base64 or URL string in JSON.
        found["url" if value.startswith(("http://", "https://")) else "base64"] = value
    elif value not in (None, ""):
        found["file"] = value  # refused below: not a file upload
    for kind in ("base64", "url"):
        extra = data.get(f"{name}_{kind}")
        if extra not in (None, ""):
            if kind in found:
                raise ServiceError(ErrorCode.INVALID_REQUEST, f"Send '{name}' once.")
            found[kind] = extra
    return found


def read_image_bytes(data, name: str = "image", accept_strings: bool = False) -> bytes:
    """The raw bytes of the single image the request carries under ``name``.

    ``accept_strings``: ``name`` itself may be a base64 or http(s) URL string (JSON bodies).
    """
    limit = max_image_bytes()
    found = _sources(data, name, accept_strings)
    fields = (name, f"{name}_base64", f"{name}_url")
    if not found:
        if name == "image":
            message = "Send the image as multipart field 'image', or JSON 'image_base64' or 'image_url'."
        else:
            message = f"Send '{name}' (multipart file), '{name}_base64' or '{name}_url'."
        raise ServiceError(ErrorCode.MISSING_IMAGE, message)
    if len(found) > 1:
        present = [f for f, kind in zip(fields, ("file", "base64", "url"), strict=True) if kind in found]
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, f"Send exactly one of {', '.join(fields)}; got {present}."
        )
    kind, value = next(iter(found.items()))
    if kind == "file":
        if not hasattr(value, "read"):
            raise ServiceError(
                ErrorCode.INVALID_REQUEST, f"Field '{name}' must be a file upload (multipart/form-data)."
            )
        if value.size > limit:
            raise too_large(value.size, limit)
        return value.read()
    if kind == "base64":
        if not isinstance(value, str):
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{name}_base64' must be a string.")
        if len(value) * 3 // 4 > limit * 1.05 + 3:  # line breaks add up to ~3%
            raise too_large(len(value) * 3 // 4, limit)
        try:
            return decode_base64(value)
        except (binascii.Error, ValueError) as exc:
            raise ServiceError(ErrorCode.INVALID_BASE64, f"'{name}_base64' is not valid base64.") from exc
    if not isinstance(value, str):
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{name}_url' must be a string.")
    try:
        return fetch_bytes(value, max_bytes=limit)
    except ResponseTooLarge as exc:
        raise too_large(exc.size, limit) from exc
    except UnsafeUrl as exc:
        raise ServiceError(ErrorCode.BAD_URL, str(exc)) from exc


def request_image(request, name: str = "image", accept_strings: bool = False) -> CheckedImage:
    """The checked image of ``request`` under ``name``; errors about a named field say its name."""
    try:
        return checked_image(read_image_bytes(request.data, name, accept_strings))
    except ServiceError as exc:
        if name == "image" or exc.code == ErrorCode.MISSING_IMAGE:
            raise
        raise exc.prefixed(name) from exc


def callback_allowed(url: str) -> None:
    """Refuse callback URLs that point at private addresses (checked again at delivery)."""
    try:
        check_url(url, settings.FACECORE_ALLOW_PRIVATE_URLS)
    except UnsafeUrl as exc:
        raise ServiceError(ErrorCode.BAD_URL, f"callback_url refused: {exc}") from exc
