"""The one table of error codes: every refusal and failure the service reports, with its HTTP status.

Services raise ``ServiceError(ErrorCode.X, message)``; the HTTP layers render it (facecore's API
as ``{"code", "message"}``, the CompreFace-compatible API with CompreFace's numeric codes) and
failed jobs store the code in their status. Codes are a public contract: add, never rename.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # The request itself
    INVALID_REQUEST = "invalid_request"
    MISSING_IMAGE = "missing_image"
    INVALID_BASE64 = "invalid_base64"
    BAD_URL = "bad_url"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    NOT_ACCEPTABLE = "not_acceptable"
    THROTTLED = "throttled"
    REQUEST_TOO_LARGE = "request_too_large"
    # Images (the engine's ImageError codes are the same strings)
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    IMAGE_TOO_LARGE = "image_too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    NOT_READY = "not_ready"
    IMAGE_FAILED = "image_failed"
    ORIGINAL_DELETED = "original_deleted"
    ORIGINAL_MISSING = "original_missing"
    # Recognition
    NO_FACE = "no_face"
    MORE_THAN_ONE_FACE = "more_than_one_face"
    LOW_QUALITY_FACE = "low_quality_face"
    INVALID_SUBJECT = "invalid_subject"
    SUBJECT_EXISTS = "subject_exists"
    SUBJECT_NOT_FOUND = "subject_not_found"
    FACE_NOT_FOUND = "face_not_found"
    CLUSTER_NOT_FOUND = "cluster_not_found"
    MATCH_NOT_FOUND = "match_not_found"
    # Review (docs/recognition.md "Review")
    SUBJECT_REQUIRED = "subject_required"
    SUBJECTS_DIFFER = "subjects_differ"
    SAME_SUBJECT = "same_subject"
    EXAMPLE_FACE = "example_face"
    # Bulk imports (docs/recognition.md "Bulk import")
    BAD_ARCHIVE = "bad_archive"
    EMPTY_IMPORT = "empty_import"
    TOO_MANY_FILES = "too_many_files"
    # The service and its parts
    STORAGE_UNAVAILABLE = "storage_unavailable"
    QUEUE_UNAVAILABLE = "queue_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"
    SERVICE_BUSY = "service_busy"
    MODEL_UNAVAILABLE = "model_unavailable"
    TIMEOUT = "timeout"
    WORKER_LOST = "worker_lost"
    PROCESSING_FAILED = "processing_failed"
    INTERNAL_ERROR = "internal_error"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.MISSING_IMAGE: 400,
    ErrorCode.INVALID_BASE64: 400,
    ErrorCode.BAD_URL: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.NOT_ACCEPTABLE: 406,
    ErrorCode.THROTTLED: 429,
    ErrorCode.REQUEST_TOO_LARGE: 413,
    ErrorCode.NOT_AN_IMAGE: 400,
    ErrorCode.UNSUPPORTED_FORMAT: 415,
    ErrorCode.IMAGE_TOO_LARGE: 413,
    ErrorCode.TOO_MANY_PIXELS: 413,
    ErrorCode.NOT_READY: 409,
    ErrorCode.IMAGE_FAILED: 409,
    ErrorCode.ORIGINAL_DELETED: 409,
    ErrorCode.ORIGINAL_MISSING: 409,
    ErrorCode.NO_FACE: 400,
    ErrorCode.MORE_THAN_ONE_FACE: 400,
    ErrorCode.LOW_QUALITY_FACE: 400,
    ErrorCode.INVALID_SUBJECT: 400,
    ErrorCode.SUBJECT_EXISTS: 409,
    ErrorCode.SUBJECT_NOT_FOUND: 404,
    ErrorCode.FACE_NOT_FOUND: 404,
    ErrorCode.CLUSTER_NOT_FOUND: 404,
    ErrorCode.MATCH_NOT_FOUND: 404,
    ErrorCode.SUBJECT_REQUIRED: 400,
    ErrorCode.SUBJECTS_DIFFER: 409,
    ErrorCode.SAME_SUBJECT: 409,
    ErrorCode.EXAMPLE_FACE: 409,
    ErrorCode.BAD_ARCHIVE: 400,
    ErrorCode.EMPTY_IMPORT: 400,
    ErrorCode.TOO_MANY_FILES: 413,
    ErrorCode.STORAGE_UNAVAILABLE: 503,
    ErrorCode.QUEUE_UNAVAILABLE: 503,
    ErrorCode.DATABASE_UNAVAILABLE: 503,
    ErrorCode.SERVICE_BUSY: 503,
    ErrorCode.MODEL_UNAVAILABLE: 503,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.WORKER_LOST: 500,
    ErrorCode.PROCESSING_FAILED: 500,
    ErrorCode.INTERNAL_ERROR: 500,
}
"""Every code has a status (a test holds the two together)."""


def http_status(code: str) -> int:
    """The status of ``code``; 500 for a code outside the table (a job's unknown failure)."""
    try:
        return HTTP_STATUS[ErrorCode(code)]
    except ValueError:
        return 500


class ServiceError(Exception):
    """A refusal or failure with a stable ``code``; raised by services, rendered by the HTTP layers."""

    def __init__(
        self, code: ErrorCode | str, message: str, *, status: int | None = None, details: object = None
    ) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.status = status if status is not None else http_status(self.code)
        self.details = details

    def prefixed(self, prefix: str) -> ServiceError:
        """The same error with ``prefix: `` before its message (names the field it is about)."""
        return ServiceError(self.code, f"{prefix}: {self.message}", status=self.status, details=self.details)


def storage_unavailable() -> ServiceError:
    return ServiceError(ErrorCode.STORAGE_UNAVAILABLE, "The object store is unavailable; try again.")


def queue_unavailable() -> ServiceError:
    return ServiceError(ErrorCode.QUEUE_UNAVAILABLE, "The job queue is unavailable; try again.")
