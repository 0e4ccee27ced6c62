"""The review endpoints: what a person decides about faces (docs/recognition.md "Review"), the
same actions as the admin's review pages, so another UI can be built on them."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as inputs
from api.params import int_option
from api.views.common import ERRORS, PARSERS, own_cluster, own_face, own_match, parse_uuid
from infra.errors import ErrorCode, ServiceError
from recognition import queries, review, subjects
from recognition import serializers as out
from recognition.models import Cluster, Match

MAX_PAGE_SIZE = 500
API_SOURCE = "api"


def valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def with_face_ids(cluster: Cluster, face_ids) -> Cluster:
    cluster.face_ids = [str(f) for f in face_ids]
    return cluster


class FaceAssignView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Assign a face to a subject (new or existing): it becomes one of its examples",
        request=inputs.SubjectNameInputSerializer,
        responses={200: out.FaceAssignmentSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def post(self, request, face_id: str):
        face = own_face(request, face_id)
        assigned = review.assign_face(request.auth, face, subjects.clean_name(request.data.get("subject")))
        body = {
            "face_id": face.id,
            "subject": assigned.subject.name,
            "cluster_id": None,
            "cleared_rejections": assigned.cleared_rejections,
        }
        return Response(out.FaceAssignmentSerializer(body).data)


class FaceUnassignView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Unassign a face of an uploaded image: unnamed again, and clustered again",
        request=None,
        responses={200: out.FaceAssignmentSerializer, 404: ERRORS[404], 409: ERRORS[409]},
        description="409 `example_face` for the face of an example photo (delete it, or assign it elsewhere).",
    )
    def post(self, request, face_id: str):
        face = review.unassign_face(request.auth, own_face(request, face_id))
        body = {"face_id": face.id, "subject": None, "cluster_id": face.cluster_id, "cleared_rejections": 0}
        return Response(out.FaceAssignmentSerializer(body).data)


class MatchListView(APIView):
    @extend_schema(
        summary="Matches to review: one row per pair of faces, most similar first, paginated",
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=["open", "confirmed", "all"],
                description="`open` (default): not yet "
                "examples of one subject; `confirmed`: both faces are examples of one subject.",
            ),
            OpenApiParameter("face_id", str),
            OpenApiParameter("image_id", str),
            OpenApiParameter("subject", str, description="Either face is an example of this subject."),
            OpenApiParameter("page", int, description="From 0."),
            OpenApiParameter("size", int, description="1-500, default 50."),
        ],
        responses={200: out.MatchPageSerializer, 400: ERRORS[400]},
    )
    def get(self, request):
        page = int_option(request, "page", 0, 0, 10**9)
        size = int_option(request, "size", 50, 1, MAX_PAGE_SIZE)
        pairs = queries.match_pairs(Match.objects.filter(application=request.auth))
        params = request.query_params
        status = params.get("status", "open")
        if status not in ("open", "confirmed", "all"):
            raise ServiceError(ErrorCode.INVALID_REQUEST, "'status' must be open, confirmed or all.")
        pairs = queries.with_status(pairs, status)
        if params.get("face_id"):
            face_id = parse_uuid(params["face_id"], ErrorCode.INVALID_REQUEST, "'face_id' must be a UUID.")
            pairs = pairs.filter(queries.involving_face(face_id))
        if params.get("image_id"):
            image_id = parse_uuid(params["image_id"], ErrorCode.INVALID_REQUEST, "'image_id' must be a UUID.")
            pairs = pairs.filter(queries.involving_image(image_id))
        if params.get("subject"):
            subject = subjects.get_subject(request.auth, params["subject"])
            pairs = pairs.filter(queries.involving_subject(subject.pk))
        total = queries.counted(pairs)
        rows = pairs.order_by("-similarity", "id")[page * size : (page + 1) * size]
        body = {
            "matches": list(rows),
            "page": page,
            "size": size,
            "total_elements": total,
            "total_pages": (total + size - 1) // size,
            "total_is_exact": total < queries.COUNT_CAP,
        }
        return Response(out.MatchPageSerializer(body).data)


class MatchConfirmView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Confirm a match: both faces are the same person and become examples of one subject",
        request=inputs.ConfirmMatchInputSerializer,
        responses={200: out.MatchConfirmedSerializer, 400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409]},
        description="Without `subject`, the subject one face already has. 400 `subject_required` when "
        "neither has one; 409 `subjects_differ` when they have different ones and no `subject` is given.",
    )
    def post(self, request, match_id: int):
        match = own_match(request, match_id)
        name = valid(inputs.ConfirmMatchInputSerializer, request).get("subject")
        assigned = review.confirm_match(request.auth, match, subjects.clean_name(name) if name else None)
        body = {
            "match_id": match.pk,
            "subject": assigned.subject,
            "face_ids": assigned.face_ids,
            "cleared_rejections": assigned.cleared_rejections,
        }
        return Response(out.MatchConfirmedSerializer(body).data)


class MatchRejectView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Reject a match: the two faces are different people, never matched or clustered together again",
        request=None,
        responses={200: out.MatchRejectedSerializer, 404: ERRORS[404], 409: ERRORS[409]},
        description="409 `same_subject` when both faces are examples of one subject (unassign the wrong one).",
    )
    def post(self, request, match_id: int):
        match = own_match(request, match_id)
        rejected = review.reject_match(request.auth, match, API_SOURCE)
        body = {
            "match_id": match.pk,
            "face_ids": rejected.face_ids,
            "moved_face_id": rejected.moved_face_id,
            "moved_to_cluster": rejected.moved_to_cluster,
        }
        return Response(out.MatchRejectedSerializer(body).data)


class ClusterMergeView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Merge clusters into this one",
        request=inputs.ClusterMergeInputSerializer,
        responses={200: out.ClusterChangedSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def post(self, request, cluster_id: int):
        target = own_cluster(request, cluster_id)
        others = [
            own_cluster(request, pk) for pk in valid(inputs.ClusterMergeInputSerializer, request)["clusters"]
        ]
        change = review.merge_clusters(request.auth, target, others)
        body = {
            "cluster": with_face_ids(change.cluster, change.face_ids),
            "cleared_rejections": change.cleared_rejections,
        }
        return Response(out.ClusterChangedSerializer(body).data)


class ClusterSplitView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Split faces out of a cluster into a new cluster",
        request=inputs.ClusterSplitInputSerializer,
        responses={200: out.ClusterChangedSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def post(self, request, cluster_id: int):
        cluster = own_cluster(request, cluster_id)
        face_ids = valid(inputs.ClusterSplitInputSerializer, request)["face_ids"]
        change = review.split_cluster(request.auth, cluster, face_ids)
        body = {
            "cluster": with_face_ids(change.cluster, change.face_ids),
            "new_cluster": with_face_ids(change.new_cluster, change.new_face_ids),
            "cleared_rejections": 0,
        }
        return Response(out.ClusterChangedSerializer(body).data)
