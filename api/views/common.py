"""What every view module shares: error documentation, parsers, the caller's objects."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiResponse
from rest_framework.parsers import FormParser, MultiPartParser

from api.parsers import SafeJSONParser
from api.serializers import ErrorSerializer
from images.models import Image
from infra.errors import ErrorCode, ServiceError

PARSERS = [SafeJSONParser, MultiPartParser, FormParser]
ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 404, 409, 413, 415, 503, 504)}


def base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def parse_uuid(value: str, code: ErrorCode, message: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ServiceError(code, message) from exc


def own_image(request, image_id: str) -> Image:
    """The caller's image; someone else's (or a malformed id) is simply not found."""
    pk = parse_uuid(image_id, ErrorCode.NOT_FOUND, "Not found.")
    image = Image.objects.filter(pk=pk, application=request.auth).first()
    if image is None:
        raise ServiceError(ErrorCode.NOT_FOUND, "Not found.")
    return image


def with_image(serializer) -> dict:
    """The request body of an endpoint that takes an image: multipart or JSON."""
    return {"multipart/form-data": serializer, "application/json": serializer}
