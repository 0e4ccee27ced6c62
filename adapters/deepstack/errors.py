"""DeepStack's error answers: ``{"success": false, "error": ..., "code": status}``.

The status is facecore's (infra.errors) where a DeepStack client tells it apart: 401 (no key, a
wrong key), 403, 404, 405, 413, 429 and the 5xx of a fault; every other refusal of the input is
400, as DeepStack answers bad input. ``code`` repeats the status, as CodeProject.AI does.
"""

from __future__ import annotations

from rest_framework import exceptions

from adapters.errors import Shape
from infra.errors import ServiceError

PREFIX = "/v1/vision/"
KEPT_STATUSES = {401, 403, 404, 405, 413, 429}
MISSING_KEY = "api key required: send api_key (form field) or X-API-Key"
WRONG_KEY = "incorrect api key"


def body(message: str, status: int) -> dict:
    return {"success": False, "error": message, "code": status}


def status_of(error: ServiceError) -> int:
    status = error.status
    return status if status in KEPT_STATUSES or status >= 500 else 400


def translate(error: ServiceError) -> tuple[dict, int]:
    status = status_of(error)
    return body(error.message, status), status


def special(exc: Exception, context: dict) -> tuple[dict, int] | None:
    if isinstance(exc, exceptions.NotAuthenticated):
        return body(MISSING_KEY, 401), 401
    if isinstance(exc, exceptions.AuthenticationFailed):
        return body(WRONG_KEY, 401), 401
    return None


SHAPE = Shape((PREFIX,), translate, special)
"""DeepStack's error answers under /v1/vision/: views, the size limit, unknown paths, handler500."""
