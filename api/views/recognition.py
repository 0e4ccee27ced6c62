"""The recognition endpoints (X-API-Key; everything scoped to the key's application)."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as inputs
from api.intake import request_image
from api.params import bool_option, int_option, plugins_option, threshold_option
from api.views.common import ERRORS, PARSERS, own_cluster, own_face, own_image, with_image
from images.models import Face
from infra.errors import ErrorCode, ServiceError, storage_unavailable
from infra.storage import ObjectNotFound, StorageUnavailable
from recognition import queries, review, subjects, sync
from recognition import serializers as out
from recognition.models import Cluster, Match

MAX_PAGE_SIZE = 500


class SubjectListView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="List subjects (with their example counts)", responses={200: out.SubjectListSerializer}
    )
    def get(self, request):
        rows = request.auth.subjects.annotate(face_count=Count("faces")).order_by("name")
        listed = [{"subject": r.name, "face_count": r.face_count} for r in rows]
        return Response(out.SubjectListSerializer({"subjects": listed}).data)

    @extend_schema(
        summary="Create a subject",
        request=inputs.SubjectNameInputSerializer,
        responses={201: out.SubjectNameSerializer, 409: ERRORS[409], 400: ERRORS[400]},
    )
    def post(self, request):
        subject = subjects.create_subject(request.auth, subjects.clean_name(request.data.get("subject")))
        return Response(
            out.SubjectNameSerializer({"subject": subject.name}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Delete every subject (as DELETE /subjects/{subject} does for one)",
        operation_id="v1_subjects_destroy_all",
        responses={200: out.DeletedCountSerializer},
    )
    def delete(self, request):
        return Response(
            out.DeletedCountSerializer({"deleted": subjects.delete_all_subjects(request.auth)}).data
        )


class SubjectDetailView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Rename a subject; renaming onto an existing subject merges them",
        request=inputs.SubjectNameInputSerializer,
        responses={200: out.RenamedSerializer, 404: ERRORS[404]},
    )
    def put(self, request, subject: str):
        new = subjects.clean_name(request.data.get("subject"))
        target, merged, cleared = subjects.rename_subject(request.auth, subject, new)
        body = {"subject": target.name, "merged": merged, "cleared_rejections": cleared}
        return Response(out.RenamedSerializer(body).data)

    @extend_schema(
        summary="Delete a subject: its example photos go, faces of uploaded images are unassigned",
        description="The example photos uploaded for the subject are deleted (faces, embeddings, crops, "
        "originals). Faces of uploaded images (jobs) assigned to it stay, unnamed again, and are clustered again.",
        responses={200: out.SubjectDeletedSerializer, 404: ERRORS[404], 503: ERRORS[503]},
    )
    def delete(self, request, subject: str):
        deleted = subjects.delete_subject(subjects.get_subject(request.auth, subject))
        return Response(out.SubjectDeletedSerializer(deleted).data)


class SubjectFacesView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Add an example photo of a subject (exactly one face)",
        request=with_image(inputs.ImageInputSerializer),
        responses={201: out.ExampleCreatedSerializer, **ERRORS},
        description="Image as multipart `image`, JSON `image_base64` or `image_url`. Creates the subject "
        "if needed. 400 `no_face` / `more_than_one_face` unless exactly one face is above det_prob_threshold; "
        "400 `low_quality_face` (with the reasons) for a face below the quality floor unless `force=true`.",
        parameters=[
            OpenApiParameter("force", bool, description="Add a face below the quality floor anyway.")
        ],
    )
    def post(self, request, subject: str):
        name = subjects.clean_name(subject)
        checked = request_image(request, "image", accept_strings=True)
        force = bool_option(request, "force")
        face = sync.add_example(request.auth, name, checked, threshold_option(request), force=force)
        body = out.ExampleCreatedSerializer(
            {"face_id": face.id, "subject": name, "quality": face.quality}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class FaceListView(APIView):
    @extend_schema(
        summary="List subjects' faces, paginated",
        parameters=[
            OpenApiParameter("subject", str),
            OpenApiParameter("page", int, description="From 0."),
            OpenApiParameter("size", int, description="1-500, default 50."),
        ],
        responses={200: out.ExamplePageSerializer},
    )
    def get(self, request):
        page = int_option(request, "page", 0, 0, 10**9)
        size = int_option(request, "size", 50, 1, MAX_PAGE_SIZE)
        rows, total = subjects.example_page(request.auth, request.query_params.get("subject"), page, size)
        body = {
            "faces": rows,
            "page": page,
            "size": size,
            "total_elements": total,
            "total_pages": (total + size - 1) // size,
        }
        return Response(out.ExamplePageSerializer(body).data)


class FaceDetailView(APIView):
    @extend_schema(
        summary="A face for review: subject, cluster, matches, suggested subjects, rejections",
        operation_id="v1_face_review",
        responses={200: out.FaceReviewSerializer, 404: ERRORS[404]},
    )
    def get(self, request, face_id: str):
        face = queries.face_review(own_face(request, face_id))
        return Response(out.FaceReviewSerializer(face).data)

    @extend_schema(
        summary="Delete a face and its embedding",
        responses={200: out.FaceDeletedSerializer, 404: ERRORS[404]},
    )
    def delete(self, request, face_id: str):
        face = own_face(request, face_id)
        body = out.FaceDeletedSerializer(
            {"face_id": face.id, "subject": face.subject.name if face.subject_id else None}
        ).data
        subjects.delete_faces([face])
        return Response(body)


class FaceImageView(APIView):
    @extend_schema(
        summary="The face crop (JPEG)",
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: ERRORS[404], 409: ERRORS[409]},
    )
    def get(self, request, face_id: str):
        face = own_face(request, face_id)
        try:
            jpeg = subjects.face_crop_jpeg(face)
        except ObjectNotFound as exc:
            raise ServiceError(
                ErrorCode.ORIGINAL_DELETED, "The original was deleted and no crop was kept."
            ) from exc
        except StorageUnavailable as exc:
            raise storage_unavailable() from exc
        return HttpResponse(jpeg, content_type="image/jpeg")


class FaceVerifyView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Compare every face of a photo with one stored example (synchronous)",
        request=with_image(inputs.DetectInputSerializer),
        responses={200: out.ExampleVerificationSerializer, **ERRORS},
        description="`face_id` is a subject's face (an example). Each face of the photo (largest first, "
        "`limit`) gets `similarity` (0.5 at the model's threshold), `distance` and `verified`.",
    )
    def post(self, request, face_id: str):
        example = subjects.get_face(request.auth, face_id, examples_only=True)
        checked = request_image(request, "image", accept_strings=True)
        answer = sync.verify_example(
            request.auth,
            example,
            checked,
            det_prob_threshold=threshold_option(request),
            limit=int_option(request, "limit", 0),
            plugins=plugins_option(request),
        )
        return Response(answer)


class RecognizeView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Recognize the faces of one image (synchronous)",
        request=with_image(inputs.RecognizeInputSerializer),
        responses={200: out.RecognitionSerializer, **ERRORS},
        description="For every face (largest first, `limit`), the `prediction_count` most similar subjects "
        "with `similarity` in [0, 1] (0.5 at the model's threshold).",
    )
    def post(self, request):
        checked = request_image(request, "image", accept_strings=True)
        result = sync.recognize(
            request.auth,
            checked,
            det_prob_threshold=threshold_option(request),
            limit=int_option(request, "limit", 0),
            prediction_count=int_option(request, "prediction_count", 1, 1, 100),
            plugins=plugins_option(request),
        )
        return Response(result)


class VerifyView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Compare every face of target_image with the largest face of source_image (synchronous)",
        request=with_image(inputs.VerifyInputSerializer),
        responses={200: out.VerificationSerializer, **ERRORS},
    )
    def post(self, request):
        source = request_image(request, "source_image", accept_strings=True)
        target = request_image(request, "target_image", accept_strings=True)
        answer = sync.verify(
            request.auth,
            source,
            target,
            det_prob_threshold=threshold_option(request),
            limit=int_option(request, "limit", 0),
            plugins=plugins_option(request),
        )
        return Response(answer)


class DetectView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Detect faces: boxes, probabilities, landmarks (synchronous)",
        request=with_image(inputs.DetectInputSerializer),
        responses={200: out.DetectionSerializer, **ERRORS},
    )
    def post(self, request):
        checked = request_image(request, "image", accept_strings=True)
        answer = sync.detect(
            request.auth,
            checked,
            det_prob_threshold=threshold_option(request),
            limit=int_option(request, "limit", 0),
            plugins=plugins_option(request),
        )
        return Response(answer)


class ImageMatchesView(APIView):
    @extend_schema(
        summary="Faces in other images of this application that are the same person",
        responses={200: out.ImageMatchesSerializer, 404: ERRORS[404]},
    )
    def get(self, request, image_id: str):
        image = own_image(request, image_id)
        faces = list(image.faces.all())
        for face in faces:
            face.ordered_matches = (
                Match.objects.filter(face=face)
                .select_related("other_face")
                .order_by("distance", "other_face_id")
            )
        body = {"id": image.id, "status": image.status, "faces": faces}
        return Response(out.ImageMatchesSerializer(body).data)


class ClusterListView(APIView):
    @extend_schema(
        summary="Suggested people: clusters of unnamed faces, largest first",
        responses={200: out.ClusterListSerializer},
    )
    def get(self, request):
        clusters = list(Cluster.objects.filter(application=request.auth).order_by("-updated_at", "id"))
        members: dict[int, list[str]] = {}
        rows = Face.objects.filter(cluster__in=clusters).values_list("id", "cluster_id")
        for face_id, cluster_id in rows:
            members.setdefault(cluster_id, []).append(str(face_id))
        shown = [c for c in clusters if members.get(c.id)]
        for cluster in shown:
            cluster.face_ids = members[cluster.id]
        shown.sort(key=lambda c: -len(c.face_ids))
        return Response(out.ClusterListSerializer({"clusters": shown}).data)


class ClusterAssignView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Name a cluster: its faces become examples of a subject (new or existing)",
        request=inputs.SubjectNameInputSerializer,
        responses={200: out.AssignedSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def post(self, request, cluster_id: int):
        name = subjects.clean_name(request.data.get("subject"))
        assigned = review.name_cluster(request.auth, own_cluster(request, cluster_id), name)
        return Response(out.AssignedSerializer(assigned).data)
