"""CompreFace's error answers: ``{"message": ..., "code": N}`` with its numeric codes.

``CODES`` maps every facecore ErrorCode (infra.errors) to CompreFace's code and HTTP status;
``Refusal`` carries the few CompreFace codes that have no facecore counterpart (a missing
query parameter or multipart part). Where CompreFace has one fixed text for a case (no face,
two faces, subject exists), that text is the message; elsewhere facecore's message is kept,
which says more.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import exceptions

from adapters.errors import Shape
from infra.errors import ErrorCode, ServiceError


@dataclass(frozen=True)
class CompreFaceCode:
    code: int
    status: int
    message: str | None = None
    """CompreFace's own text for the case, used instead of facecore's message."""


NO_FACE_MESSAGE = "No face is found in the given image"
SERVER_FAULT = 41
"""CompreFace: "Error during synchronization between servers" (its core is down or failed)."""

CODES: dict[ErrorCode, CompreFaceCode] = {
    ErrorCode.INVALID_REQUEST: CompreFaceCode(26, 400),
    ErrorCode.MISSING_IMAGE: CompreFaceCode(34, 400),
    ErrorCode.INVALID_BASE64: CompreFaceCode(21, 400),
    ErrorCode.BAD_URL: CompreFaceCode(26, 400),
    ErrorCode.UNAUTHORIZED: CompreFaceCode(10, 404),
    ErrorCode.FORBIDDEN: CompreFaceCode(0, 403),
    ErrorCode.NOT_FOUND: CompreFaceCode(0, 404),
    ErrorCode.METHOD_NOT_ALLOWED: CompreFaceCode(0, 405),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: CompreFaceCode(0, 415),
    ErrorCode.NOT_ACCEPTABLE: CompreFaceCode(0, 406),
    ErrorCode.THROTTLED: CompreFaceCode(0, 429),
    ErrorCode.REQUEST_TOO_LARGE: CompreFaceCode(0, 413),
    # CompreFace turns every refusal of its detection core into 28.
    ErrorCode.NOT_AN_IMAGE: CompreFaceCode(28, 400),
    ErrorCode.UNSUPPORTED_FORMAT: CompreFaceCode(28, 400),
    ErrorCode.IMAGE_TOO_LARGE: CompreFaceCode(0, 413),
    ErrorCode.TOO_MANY_PIXELS: CompreFaceCode(0, 413),
    ErrorCode.NOT_READY: CompreFaceCode(0, 409),
    ErrorCode.IMAGE_FAILED: CompreFaceCode(0, 409),
    ErrorCode.ORIGINAL_DELETED: CompreFaceCode(44, 404),
    ErrorCode.ORIGINAL_MISSING: CompreFaceCode(44, 404),
    ErrorCode.NO_FACE: CompreFaceCode(28, 400, NO_FACE_MESSAGE),
    ErrorCode.MORE_THAN_ONE_FACE: CompreFaceCode(31, 400, "More than one face in the source image"),
    ErrorCode.LOW_QUALITY_FACE: CompreFaceCode(26, 400),
    ErrorCode.INVALID_SUBJECT: CompreFaceCode(36, 400),
    ErrorCode.SUBJECT_EXISTS: CompreFaceCode(43, 400, "Subject already exists"),
    ErrorCode.SUBJECT_NOT_FOUND: CompreFaceCode(42, 404),
    ErrorCode.FACE_NOT_FOUND: CompreFaceCode(44, 404),
    ErrorCode.CLUSTER_NOT_FOUND: CompreFaceCode(0, 404),
    # Review actions (facecore's own API only; CompreFace has no counterpart).
    ErrorCode.MATCH_NOT_FOUND: CompreFaceCode(0, 404),
    ErrorCode.SUBJECT_REQUIRED: CompreFaceCode(26, 400),
    ErrorCode.SUBJECTS_DIFFER: CompreFaceCode(0, 409),
    ErrorCode.SAME_SUBJECT: CompreFaceCode(0, 409),
    ErrorCode.EXAMPLE_FACE: CompreFaceCode(0, 409),
    ErrorCode.BAD_ARCHIVE: CompreFaceCode(0, 400),
    ErrorCode.EMPTY_IMPORT: CompreFaceCode(0, 400),
    ErrorCode.TOO_MANY_FILES: CompreFaceCode(0, 413),
    # Faults keep facecore's status (503: retry) with CompreFace's code for "the core failed".
    ErrorCode.STORAGE_UNAVAILABLE: CompreFaceCode(SERVER_FAULT, 503),
    ErrorCode.QUEUE_UNAVAILABLE: CompreFaceCode(SERVER_FAULT, 503),
    ErrorCode.DATABASE_UNAVAILABLE: CompreFaceCode(SERVER_FAULT, 503),
    ErrorCode.SERVICE_BUSY: CompreFaceCode(SERVER_FAULT, 503),
    ErrorCode.MODEL_UNAVAILABLE: CompreFaceCode(SERVER_FAULT, 503),
    ErrorCode.TIMEOUT: CompreFaceCode(SERVER_FAULT, 504),
    ErrorCode.WORKER_LOST: CompreFaceCode(SERVER_FAULT, 500),
    ErrorCode.PROCESSING_FAILED: CompreFaceCode(SERVER_FAULT, 500),
    ErrorCode.INTERNAL_ERROR: CompreFaceCode(0, 500, "Something went wrong, please try again"),
}
"""Every facecore code has a CompreFace code (a test holds the two tables together)."""

MISSING_KEY = CompreFaceCode(20, 400, "Missing header: x-api-key")


class Refusal(Exception):
    """A CompreFace refusal without a facecore counterpart: ``code``, ``status``, ``message``."""

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


def body(code: int, message: str) -> dict:
    return {"message": message, "code": code}


def translate(error: ServiceError) -> tuple[dict, int]:
    """CompreFace's body and status for a facecore ServiceError."""
    try:
        mapped = CODES[ErrorCode(error.code)]
    except ValueError:  # a job's failure code outside the table
        mapped = CompreFaceCode(SERVER_FAULT, error.status)
    return body(mapped.code, mapped.message or error.message), mapped.status


def special(exc: Exception, context: dict) -> tuple[dict, int] | None:
    """CompreFace's own refusals: its codes without a facecore counterpart, and its key errors."""
    if isinstance(exc, Refusal):
        return body(exc.code, exc.message), exc.status
    if isinstance(exc, exceptions.NotAuthenticated):
        return body(MISSING_KEY.code, MISSING_KEY.message or ""), MISSING_KEY.status
    if isinstance(exc, exceptions.AuthenticationFailed):
        service = getattr(context.get("view"), "service", "Recognition")
        return body(10, f"{service} service with this API key not found"), 404
    return None


PREFIXES = ("/api/v1/recognition/", "/api/v1/detection/", "/api/v1/verification/", "/api/v1/static/")
SHAPE = Shape(PREFIXES, translate, special)
"""CompreFace's error answers on its paths: views, the size limit, unknown paths, handler500."""
