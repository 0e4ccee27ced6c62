"""What every view module shares: error documentation, parsers, the caller's objects."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiResponse
from rest_framework.parsers import FormParser, MultiPartParser

from api.parsers import SafeJSONParser
from api.serializers import ErrorSerializer
from images.models import Face, Image
from infra.errors import ErrorCode, ServiceError
from recognition import subjects
from recognition.models import Cluster, Match

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


def own_face(request, face_id: str) -> Face:
    """The caller's face of a job or example image (probes are not addressable)."""
    return subjects.get_face(request.auth, face_id)


def own_cluster(request, cluster_id: int) -> Cluster:
    cluster = Cluster.objects.filter(pk=cluster_id, application=request.auth).first()
    if cluster is None:
        raise ServiceError(ErrorCode.CLUSTER_NOT_FOUND, f"No cluster {cluster_id}.")
    return cluster


def own_match(request, match_id: int) -> Match:
    match = Match.objects.filter(pk=match_id, application=request.auth).first()
    if match is None:
        raise ServiceError(ErrorCode.MATCH_NOT_FOUND, f"No match {match_id}.")
    return match
