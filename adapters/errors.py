"""Error answers of the compatibility layers, each in its own shape, from views, middleware
and unknown paths alike.

A layer describes its shape once, as a ``Shape``: the path prefixes it serves and
``translate(error) -> (body, status)`` for a facecore ServiceError (infra.errors). Everything
else is here: DRF's and Django's exceptions are read as ServiceErrors (api.errors), a bug is
logged and answered as ``internal_error`` in the layer's shape (never an HTML page), and
``Retry-After``/``Allow`` survive the translation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from api.errors import as_service_error, last_resort_error, retry_after
from infra.errors import ErrorCode, ServiceError

log = logging.getLogger(__name__)

Answer = tuple[dict, int]
KEPT_HEADERS = ("Retry-After", "Allow")


@dataclass(frozen=True)
class Shape:
    """How one compatibility layer answers errors."""

    prefixes: tuple[str, ...]
    translate: Callable[[ServiceError], Answer]
    special: Callable[[Exception, dict], Answer | None] | None = None
    """The layer's own words for some exceptions (a missing key...), before ``translate``."""

    def serves(self, path: str) -> bool:
        return path.startswith(self.prefixes)

    def json(self, error: ServiceError) -> JsonResponse:
        content, status = self.translate(error)
        return JsonResponse(content, status=status, headers=retry_after(error))

    def exception_handler(self, exc: Exception, context: dict) -> Response:
        """The exception handler of the layer's views (their ``get_exception_handler``)."""
        answer = self.special(exc, context) if self.special else None
        retry: dict[str, str] = {}
        if answer is None:
            error = as_service_error(exc)
            if error is None:
                log.error("unhandled error in %s", context.get("view"), exc_info=exc)
                error = ServiceError(ErrorCode.INTERNAL_ERROR, "Internal server error.")
            answer = self.translate(error)
            retry = retry_after(error)
        content, status = answer
        response = drf_exception_handler(exc, context) if isinstance(exc, exceptions.APIException) else None
        headers = {k: v for k, v in (response.headers.items() if response else []) if k in KEPT_HEADERS}
        return Response(content, status=status, headers={**retry, **headers})

    def not_found_view(self):
        """A view for unknown paths under the layer's prefixes, whatever the method."""

        @csrf_exempt
        def not_found(request, exception=None) -> JsonResponse:
            return self.json(
                ServiceError(ErrorCode.NOT_FOUND, f"No endpoint {request.method} {request.path}.")
            )

        return not_found

    def server_error(self) -> JsonResponse:
        """Django's last resort (handler500) on the layer's paths (api.errors.last_resort_error)."""
        return self.json(last_resort_error())
