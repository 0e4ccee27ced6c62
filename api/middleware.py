"""Refuse oversized API requests by their Content-Length, before any of the body is read."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

from api.errors import error_body
from infra.errors import ErrorCode, http_status


class RequestSizeLimit:
    """An /api/ request may carry one image (FACECORE_MAX_IMAGE_BYTES, base64 adds a third) plus
    FACECORE_MAX_REQUEST_BYTES of other fields; a larger declared body gets 413 at once."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            declared = request.META.get("CONTENT_LENGTH") or "0"
            limit = settings.FACECORE_ENGINE.max_image_bytes * 4 // 3 + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if declared.isdigit() and int(declared) > limit:
                code = ErrorCode.REQUEST_TOO_LARGE
                message = f"The request body is {declared} bytes; the limit is {limit} bytes."
                return JsonResponse(error_body(code, message), status=http_status(code))
        return self.get_response(request)
