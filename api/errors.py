"""Every error response is JSON ``{"code", "message"}`` (plus ``details`` for validation)."""

from __future__ import annotations

import logging

from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An error with a stable ``code``; raise it from views."""

    def __init__(self, code: str, message: str, status_code: int = 400, details: dict | None = None) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.message = message
        self.details = details


def error_body(code: str, message: str, details=None) -> dict:
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return body


def _code_for(exc: Exception) -> tuple[str, str, object]:
    if isinstance(exc, ApiError):
        return exc.error_code, exc.message, exc.details
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return "unauthorized", str(exc.detail), None
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return "not_found", "Not found.", None
    if isinstance(exc, exceptions.ValidationError):
        return "invalid_request", "The request is invalid; see details.", exc.detail
    if isinstance(exc, exceptions.ParseError):
        return "invalid_request", str(exc.detail), None
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return "unsupported_media_type", str(exc.detail), None
    if isinstance(exc, exceptions.MethodNotAllowed):
        return "method_not_allowed", str(exc.detail), None
    if isinstance(exc, exceptions.PermissionDenied):
        return "forbidden", str(exc.detail), None
    if isinstance(exc, exceptions.Throttled):
        return "throttled", str(exc.detail), None
    if isinstance(exc, exceptions.NotAcceptable):
        return "not_acceptable", str(exc.detail), None
    return "error", str(getattr(exc, "detail", exc)), None


def exception_handler(exc: Exception, context) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        # A bug: log it with its traceback and still answer in the documented shape.
        log.error("unhandled error in %s", context.get("view"), exc_info=exc)
        return Response(error_body("internal_error", "Internal server error."), status=500)
    code, message, details = _code_for(exc)
    response.data = error_body(code, message, details)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        response.status_code = status.HTTP_401_UNAUTHORIZED
    return response


def json_not_found(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_server_error(request) -> JsonResponse:
    return JsonResponse(error_body("internal_error", "Internal server error."), status=500)


def json_bad_request(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("invalid_request", "Bad request."), status=400)
