"""Subjects: add, list, rename (merging onto an existing name), delete one, delete all."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from adapters.compreface import serializers as out
from adapters.compreface.views.base import ERRORS, TAG, CompreFaceView
from infra.errors import ErrorCode, ServiceError
from recognition import subjects


def body_subject(request) -> str:
    """``{"subject": ...}`` of the request body, cleaned (26 when blank, 36 when not allowed)."""
    value = request.data.get("subject") if isinstance(request.data, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise ServiceError(ErrorCode.INVALID_REQUEST, "Subject name cannot be empty")
    return subjects.clean_name(value)


def stored_subject(request, name: str):
    """The subject named ``name`` ignoring case (42 when there is none)."""
    return subjects.get_subject(request.auth, subjects.resolve_name(request.auth, subjects.clean_name(name)))


class SubjectsView(CompreFaceView):
    @extend_schema(
        tags=[TAG],
        summary="Add a subject",
        request=out.CompreFaceSubjectSerializer,
        responses={201: out.CompreFaceSubjectSerializer, **ERRORS},
    )
    def post(self, request):
        name = body_subject(request)
        if subjects.resolve_name(request.auth, name) != name:
            raise ServiceError(ErrorCode.SUBJECT_EXISTS, "Subject already exists")
        subject = subjects.create_subject(request.auth, name)
        return Response(
            out.CompreFaceSubjectSerializer({"subject": subject.name}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(tags=[TAG], summary="List subjects", responses={200: out.CompreFaceSubjectsSerializer})
    def get(self, request):
        names = list(request.auth.subjects.order_by("name").values_list("name", flat=True))
        return Response(out.CompreFaceSubjectsSerializer({"subjects": names}).data)

    @extend_schema(
        tags=[TAG],
        summary="Delete every subject with its examples",
        operation_id="compreface_subjects_delete_all",
        responses={200: out.CompreFaceDeletedSerializer},
    )
    def delete(self, request):
        return Response(
            out.CompreFaceDeletedSerializer({"deleted": subjects.delete_all_subjects(request.auth)}).data
        )


class SubjectView(CompreFaceView):
    @extend_schema(
        tags=[TAG],
        summary="Rename a subject; onto an existing name, the two are merged",
        request=out.CompreFaceSubjectSerializer,
        responses={200: out.CompreFaceUpdatedSerializer, **ERRORS},
    )
    def put(self, request, subject: str):
        old = stored_subject(request, subject)
        requested = body_subject(request)
        if requested == old.name:
            return Response(out.CompreFaceUpdatedSerializer({"updated": False}).data)
        existing = subjects.resolve_name(request.auth, requested)
        # Onto another subject (any case): merge; onto itself in another case: a plain rename.
        subjects.rename_subject(request.auth, old.name, requested if existing == old.name else existing)
        return Response(out.CompreFaceUpdatedSerializer({"updated": True}).data)

    @extend_schema(
        tags=[TAG],
        summary="Delete a subject with its examples",
        responses={200: out.CompreFaceSubjectSerializer, **ERRORS},
    )
    def delete(self, request, subject: str):
        found = stored_subject(request, subject)
        subjects.delete_subject(found)
        return Response(out.CompreFaceSubjectSerializer({"subject": found.name}).data)
