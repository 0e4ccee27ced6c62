"""Every error answer is JSON ``{"code", "message"}`` (plus ``details`` for validation).

Services raise ``infra.errors.ServiceError``; DRF's own exceptions (auth, parsing, validation)
are given the codes of the same table (infra.errors.ErrorCode).
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from infra.errors import ErrorCode, ServiceError, http_status

log = logging.getLogger(__name__)

DRF_CODES: list[tuple[type[Exception] | tuple[type[Exception], ...], ErrorCode]] = [
    ((exceptions.NotAuthenticated, exceptions.AuthenticationFailed), ErrorCode.UNAUTHORIZED),
    ((Http404, exceptions.NotFound), ErrorCode.NOT_FOUND),
    (exceptions.ValidationError, ErrorCode.INVALID_REQUEST),
    (exceptions.ParseError, ErrorCode.INVALID_REQUEST),
    (exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (exceptions.PermissionDenied, ErrorCode.FORBIDDEN),
    (exceptions.Throttled, ErrorCode.THROTTLED),
    (exceptions.NotAcceptable, ErrorCode.NOT_ACCEPTABLE),
]


def error_body(code: str, message: str, details=None) -> dict:
    body = {"code": str(code), "message": message}
    if details:
        body["details"] = details
    return body


RETRY_AFTER_SECONDS = 5
"""What a 503 (a part down, or every database connection busy) tells the client to wait."""


def retry_after(error: ServiceError) -> dict[str, str]:
    """``Retry-After`` for the answers worth retrying as they are (503)."""
    return {"Retry-After": str(RETRY_AFTER_SECONDS)} if error.status == 503 else {}


def database_error(exc: Exception) -> ServiceError:
    """A connection-level database failure: ``service_busy`` when every connection the process may
    hold is in use (the pool's wait ran out, or the server's max_connections), else
    ``database_unavailable``. Either way nothing was stored by the request."""
    text = f"{exc} {exc.__cause__ or ''}".lower()
    if "couldn't get a connection" in text or "too many clients" in text or "pooltimeout" in text:
        return ServiceError(
            ErrorCode.SERVICE_BUSY,
            f"The service is busy: no database connection was free; retry in {RETRY_AFTER_SECONDS} s.",
        )
    return ServiceError(ErrorCode.DATABASE_UNAVAILABLE, "The database is unavailable; try again.")


def as_service_error(exc: Exception) -> ServiceError | None:
    """The table's view of ``exc``: ServiceErrors as they are, DRF's and Django's by type."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return ServiceError(
            ErrorCode.REQUEST_TOO_LARGE,
            f"The request body (without files) is larger than {limit} bytes (FACECORE_MAX_REQUEST_BYTES).",
        )
    if isinstance(exc, OperationalError | InterfaceError):
        return database_error(exc)
    if isinstance(exc, TooManyFieldsSent):
        return ServiceError(ErrorCode.INVALID_REQUEST, "The request has too many fields.")
    if isinstance(exc, DataError):
        # A value the database cannot store (e.g. a NUL byte in a text field): the input's fault.
        return ServiceError(
            ErrorCode.INVALID_REQUEST, "A value in the request cannot be stored (e.g. a NUL byte)."
        )
    for types, code in DRF_CODES:
        if isinstance(exc, types):
            if code == ErrorCode.NOT_FOUND:
                return ServiceError(code, "Not found.")
            if isinstance(exc, exceptions.ValidationError):
                return ServiceError(code, "The request is invalid; see details.", details=exc.detail)
            status = getattr(exc, "status_code", None) if code != ErrorCode.UNAUTHORIZED else None
            return ServiceError(code, str(exc.detail), status=status)
    if isinstance(exc, exceptions.APIException):
        return ServiceError("error", str(exc.detail), status=exc.status_code)
    return None


def exception_handler(exc: Exception, context) -> Response:
    error = as_service_error(exc)
    if error is None:
        # A bug: log it with its traceback and still answer in the documented shape.
        log.error("unhandled error in %s", context.get("view"), exc_info=exc)
        return Response(error_body(ErrorCode.INTERNAL_ERROR, "Internal server error."), status=500)
    response = drf_exception_handler(exc, context) if isinstance(exc, exceptions.APIException) else None
    kept = ("Retry-After", "Allow", "WWW-Authenticate")
    headers = {k: v for k, v in (response.headers.items() if response else []) if k in kept}
    return Response(
        error_body(error.code, error.message, error.details),
        status=error.status,
        headers={**retry_after(error), **headers},
    )


def json_error(code: ErrorCode, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=http_status(code))


def json_service_error(error: ServiceError) -> JsonResponse:
    return JsonResponse(
        error_body(error.code, error.message, error.details), status=error.status, headers=retry_after(error)
    )


@csrf_exempt
def json_not_found(request, exception=None) -> JsonResponse:
    """Unknown paths under /api/, whatever the method (POST included: no CSRF page)."""
    return json_error(ErrorCode.NOT_FOUND, "Not found.")


def csrf_failure(request, reason: str = "") -> JsonResponse:
    """CSRF refusals: JSON under /api/, Django's page elsewhere (the admin)."""
    if request.path.startswith("/api/"):
        return json_error(ErrorCode.FORBIDDEN, f"CSRF check failed: {reason}")
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


def last_resort_error() -> ServiceError:
    """What Django's handler500 answers for the exception being handled (one raised outside DRF's
    views: a middleware, the admin): a database that is busy or down is still a 503
    (``database_error``), anything else ``internal_error``."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        return database_error(exc)
    return ServiceError(ErrorCode.INTERNAL_ERROR, "Internal server error.")


def json_server_error(request) -> JsonResponse:
    return json_service_error(last_resort_error())


def json_bad_request(request, exception=None) -> JsonResponse:
    return json_error(ErrorCode.INVALID_REQUEST, "Bad request.")
