"""Refuse oversized API requests by their Content-Length, before any of the body is read."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

from api.errors import error_body
from infra.errors import ErrorCode, ServiceError

IMPORTS_PATH = "/api/v1/imports"


def image_request_limit(images: int = 1) -> int:
    """The largest body of a request carrying ``images`` images (base64 adds a third to each)
    plus FACECORE_MAX_REQUEST_BYTES of other fields."""
    return images * settings.FACECORE_ENGINE.max_image_bytes * 4 // 3 + settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def declared_over(request, limit: int) -> ServiceError | None:
    """The refusal of a request whose declared Content-Length is over ``limit``, else None."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        message = f"The request body is {declared} bytes; the limit is {limit} bytes."
        return ServiceError(ErrorCode.REQUEST_TOO_LARGE, message)
    return None


def oversized(request) -> ServiceError | None:
    """An /api/ request may carry one image (FACECORE_MAX_IMAGE_BYTES, base64 adds a third) plus
    FACECORE_MAX_REQUEST_BYTES of other fields, a bulk import FACECORE_IMPORT_MAX_BYTES; the
    refusal of a larger declared body, else None."""
    if not request.path.startswith("/api/"):
        return None
    limit = image_request_limit()
    if request.path.rstrip("/") == IMPORTS_PATH:  # many photos in one body (FACECORE_IMPORT_MAX_BYTES)
        limit = settings.FACECORE_IMPORT_MAX_BYTES
    return declared_over(request, limit)


class RequestSizeLimit:
    """413 ``request_too_large`` at once for an oversized declared body (see ``oversized``)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        error = oversized(request)
        if error is not None:
            return JsonResponse(error_body(error.code, error.message), status=error.status)
        return self.get_response(request)
