"""API keys as the compatibility layers receive them: facecore's ``X-API-Key`` header or where
the layer's clients put the key (a form field, a path segment)."""

from __future__ import annotations

from tenants.auth import HEADER, key_application
from tenants.models import Application


def sent_key(request, field: str | None = None) -> str | None:
    """The key of a DRF request: the form or JSON ``field`` (when given), else the header; a
    blank value is no key (DeepStack's clients send ``api_key=""`` when none is configured)."""
    value = None
    if field is not None and isinstance(request.data, dict):
        value = request.data.get(field)
    if not isinstance(value, str) or not value.strip():
        value = request.headers.get(HEADER)
    return value.strip() if isinstance(value, str) and value.strip() else None


def application_of(raw_key: str) -> Application | None:
    """The application of an unrevoked key, else None (tenants.auth: marks the key used)."""
    return key_application(raw_key)
