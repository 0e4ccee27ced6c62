"""The request-size refusal of api.middleware, answered in CompreFace's shape on its paths
(placed before api.middleware.RequestSizeLimit in MIDDLEWARE)."""

from __future__ import annotations

from adapters.compreface.errors import json_answer
from api.middleware import oversized

PREFIXES = ("/api/v1/recognition/", "/api/v1/detection/", "/api/v1/verification/", "/api/v1/static/")


class RequestSizeLimit:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(PREFIXES):
            error = oversized(request)
            if error is not None:
                return json_answer(error)
        return self.get_response(request)
