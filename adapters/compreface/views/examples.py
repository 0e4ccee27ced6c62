"""Examples (a subject's faces): add, list, delete (by subject, by id, several), download,
and verify a photo against one example. An example's ``image_id`` is facecore's ``face_id``."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from adapters.compreface import params, render
from adapters.compreface import serializers as out
from adapters.compreface.intake import request_image
from adapters.compreface.views.base import DET_PROB, ERRORS, FACE_OPTIONS, TAG, CompreFaceView, Q, image_body
from adapters.keys import application_of
from images.models import Face
from infra.errors import ErrorCode, ServiceError, storage_unavailable
from infra.storage import ObjectNotFound, StorageUnavailable
from recognition import subjects, sync

SUBJECT = OpenApiParameter("subject", str, Q)


def example_body(face: Face, subject: str | None = None) -> dict:
    return {"image_id": face.id, "subject": subject if subject is not None else face.subject.name}


def image_answer(face: Face) -> HttpResponse:
    """The example's photo as uploaded (its face crop when originals are not kept)."""
    try:
        data, content_type = subjects.example_image(face)
    except ObjectNotFound as exc:
        raise ServiceError(ErrorCode.ORIGINAL_DELETED, f"Image {face.id} not found") from exc
    except StorageUnavailable as exc:
        raise storage_unavailable() from exc
    return HttpResponse(data, content_type=content_type)


class FacesView(CompreFaceView):
    @extend_schema(
        tags=[TAG],
        summary="Add an example of a subject (exactly one face; the subject is created when missing)",
        parameters=[OpenApiParameter("subject", str, Q, required=True), DET_PROB],
        request=image_body(out.CompreFaceFileInputSerializer),
        responses={201: out.CompreFaceExampleSerializer, **ERRORS},
    )
    def post(self, request):
        requested = params.required_subject(request)
        name = subjects.resolve_name(request.auth, subjects.clean_name(requested))
        threshold = params.det_prob_threshold(request)
        params.no_plugins(request)
        checked = request_image(request, "file")
        face = sync.add_example(request.auth, name, checked, threshold)
        body = out.CompreFaceExampleSerializer(example_body(face, requested.strip())).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=[TAG],
        summary="List examples, paged",
        parameters=[
            SUBJECT,
            OpenApiParameter("page", int, Q, description="From 0."),
            OpenApiParameter("size", int, Q, description="Default 20, at most 2000."),
        ],
        responses={200: out.CompreFaceExamplePageSerializer},
    )
    def get(self, request):
        page = params.lenient_int(request, "page", 0, 10**9)
        size = params.lenient_int(request, "size", params.DEFAULT_PAGE_SIZE, params.MAX_PAGE_SIZE)
        rows, total = subjects.example_page(request.auth, request.query_params.get("subject"), page, size)
        body = {
            "faces": [example_body(face) for face in rows],
            "page_number": page,
            "page_size": size,
            "total_pages": (total + size - 1) // size,
            "total_elements": total,
        }
        return Response(out.CompreFaceExamplePageSerializer(body).data)

    @extend_schema(
        tags=[TAG],
        summary="Delete every example of a subject, keeping the subject (without `subject`: every example)",
        operation_id="compreface_faces_delete_by_subject",
        parameters=[SUBJECT],
        responses={200: out.CompreFaceDeletedSerializer, **ERRORS},
    )
    def delete(self, request):
        if "subject" not in request.query_params:
            return Response(
                out.CompreFaceDeletedSerializer({"deleted": subjects.delete_all_examples(request.auth)}).data
            )
        name = params.required_subject(request)
        stored = subjects.resolve_name(request.auth, subjects.clean_name(name))
        found = request.auth.subjects.filter(name=stored).first()
        deleted = subjects.delete_examples(found) if found else 0  # the subject stays (CompreFace)
        return Response(out.CompreFaceDeletedSerializer({"deleted": deleted}).data)


class FacesDeleteView(CompreFaceView):
    json_array_body = True  # CompreFace's "delete several" takes a JSON array of ids

    @extend_schema(
        tags=[TAG],
        summary="Delete several examples by id (ids not found are skipped)",
        request={"application/json": {"type": "array", "items": {"type": "string", "format": "uuid"}}},
        responses={200: out.CompreFaceExampleSerializer(many=True), **ERRORS},
    )
    def post(self, request):
        ids = request.data
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ServiceError(ErrorCode.INVALID_REQUEST, "Send a JSON array of image_id strings.")
        try:
            pks = [uuid.UUID(i) for i in ids]
        except ValueError as exc:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "Every image_id must be a UUID.") from exc
        faces = list(
            Face.objects.filter(application=request.auth, pk__in=pks, subject__isnull=False).select_related(
                "subject", "image"
            )
        )
        body = out.CompreFaceExampleSerializer([example_body(face) for face in faces], many=True).data
        subjects.delete_faces(faces)
        return Response(body)


class FaceView(CompreFaceView):
    @extend_schema(
        tags=[TAG],
        summary="Delete an example by id",
        responses={200: out.CompreFaceExampleSerializer, **ERRORS},
    )
    def delete(self, request, image_id: str):
        face = subjects.get_face(request.auth, image_id, examples_only=True)
        body = out.CompreFaceExampleSerializer(example_body(face)).data
        subjects.delete_faces([face])
        return Response(body)


class FaceImageView(CompreFaceView):
    @extend_schema(
        tags=[TAG],
        summary="Download an example's photo",
        responses={(200, "image/*"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request, image_id: str):
        return image_answer(subjects.get_face(request.auth, image_id, examples_only=True))


class StaticImageView(CompreFaceView):
    """``/api/v1/static/{api_key}/images/{image_id}``: for ``<img src>``, the key is in the path."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=[TAG],
        summary="Download an example's photo, the API key in the path (for <img> tags)",
        auth=[],
        responses={(200, "image/*"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request, api_key: str, image_id: str):
        application = application_of(api_key)
        if application is None:
            raise ServiceError(ErrorCode.UNAUTHORIZED, "Recognition service with this API key not found")
        return image_answer(subjects.get_face(application, image_id, examples_only=True))


class FaceVerifyView(CompreFaceView):
    @extend_schema(
        tags=[TAG],
        summary="Compare every face of a photo with one stored example",
        parameters=FACE_OPTIONS,
        request=image_body(out.CompreFaceFileInputSerializer),
        responses={200: out.CompreFaceExampleVerificationSerializer, **ERRORS},
    )
    def post(self, request, image_id: str):
        options = params.face_options(request)
        example = subjects.get_face(request.auth, image_id, examples_only=True)
        checked = request_image(request, "file")
        answer = sync.verify_example(
            request.auth,
            example,
            checked,
            det_prob_threshold=options.det_prob_threshold,
            limit=options.limit,
            plugins=options.plugins,
            timings=options.status,
        )
        timings = answer.get("timings") if options.status else None
        result = [
            {
                **render.face(found, options.plugins, timings=timings),
                "subject": answer["example"]["subject"],
                "similarity": found["similarity"],
            }
            for found in answer["faces"]
        ]
        body: dict = {"result": result}
        if options.status:
            body["plugins_versions"] = render.plugins_versions(options.plugins, answer["model"])
        return Response(out.CompreFaceExampleVerificationSerializer(body).data)
