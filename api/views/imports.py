"""Bulk enrolment over HTTP: one call with many photos answers 202 and an import to follow."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as inputs
from api.params import bool_option, threshold_option
from api.views.common import ERRORS
from infra.errors import ErrorCode, ServiceError
from recognition import bulk
from recognition import serializers as out


def _uploads(request) -> list[tuple[str, str, object]]:
    """``files`` with their ``subject`` (repeated fields, in the same order)."""
    files = request.FILES.getlist("files")
    names = request.data.getlist("subject") if hasattr(request.data, "getlist") else []
    if len(names) != len(files):
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            f"{len(files)} 'files' and {len(names)} 'subject' fields: send one subject per file, in order.",
        )
    return [(name, upload.name or "", upload) for name, upload in zip(names, files, strict=True)]


class ImportListView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Enrol many example photos at once (a zip with one folder per subject, or files)",
        description="Multipart: `archive` (a zip: `<subject>/<photo>`, one folder per subject) or `files` "
        "with one `subject` per file, in order. Each photo goes through the worker pool and is enrolled "
        "under the rules of one example (exactly one face; `low_quality_face` refused unless `force=true`). "
        "Answers 202 at once with the import's status; follow it at `GET /api/v1/imports/{id}` "
        "(Location). A photo already enrolled for its subject is skipped, so sending the same set again "
        "enrols only what is new.",
        request={"multipart/form-data": inputs.ImportInputSerializer},
        responses={202: out.ImportStatusSerializer, **ERRORS},
    )
    def post(self, request):
        options = {"force": bool_option(request, "force"), "det_prob_threshold": threshold_option(request)}
        archive = request.FILES.get("archive")
        if archive is not None and request.FILES.getlist("files"):
            raise ServiceError(ErrorCode.INVALID_REQUEST, "Send either 'archive' or 'files', not both.")
        if archive is not None:
            job = bulk.import_archive(request.auth, archive, **options)
        else:
            job = bulk.import_uploads(request.auth, _uploads(request), **options)
        body = out.ImportStatusSerializer(bulk.status(job)).data
        headers = {"Location": request.build_absolute_uri(f"/api/v1/imports/{job.id}")}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers=headers)


class ImportDetailView(APIView):
    @extend_schema(
        summary="A bulk import's progress: counts, refusals by code, and each file's outcome",
        responses={200: out.ImportStatusSerializer, 404: ERRORS[404]},
    )
    def get(self, request, import_id: str):
        job = bulk.get_import(request.auth, import_id)
        return Response(out.ImportStatusSerializer(bulk.status(job)).data)
