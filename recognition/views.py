"""The v1 recognition endpoints (X-API-Key; everything scoped to the key's application)."""

from __future__ import annotations

import uuid

import numpy as np
from django.db.models import Count
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError
from api.models import Cluster, Face, ImagePurpose, Match
from api.presenters import face_json
from api.storage import ObjectNotFound, StorageUnavailable
from api.views import own_image
from recognition import probes, subjects
from recognition import serializers as doc
from recognition.inputs import checked_named_image, int_option, threshold_option
from recognition.models_info import model_info
from recognition.predictions import det_prob_threshold_of
from recognition.presenters import cluster_json, example_json, match_json

PARSERS = [JSONParser, MultiPartParser, FormParser]
ERRORS = {code: OpenApiResponse(doc.ERROR) for code in (400, 401, 404, 409, 413, 415, 503, 504)}


def with_image(serializer) -> dict:
    return {"multipart/form-data": serializer, "application/json": serializer}


MAX_PAGE_SIZE = 500


def _uuid(value: str, what: str = "face") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ApiError(f"{what}_not_found", f"No {what} {value!r}.", 404) from exc


def own_face(request, face_id: str) -> Face:
    face = (
        Face.objects.select_related("subject", "image")
        .filter(pk=_uuid(face_id), application=request.auth)
        .exclude(image__purpose=ImagePurpose.PROBE)
        .first()
    )
    if face is None:
        raise ApiError("face_not_found", f"No face {face_id!r}.", 404)
    return face


class SubjectListView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="List subjects (with their example counts)", responses={200: doc.SubjectListSerializer}
    )
    def get(self, request):
        rows = (
            request.auth.subjects.annotate(face_count=Count("faces"))
            .order_by("name")
            .values("name", "face_count")
        )
        return Response({"subjects": [{"subject": r["name"], "face_count": r["face_count"]} for r in rows]})

    @extend_schema(
        summary="Create a subject",
        request=doc.SubjectNameSerializer,
        responses={201: doc.SubjectNameSerializer, 409: ERRORS[409], 400: ERRORS[400]},
    )
    def post(self, request):
        subject = subjects.create_subject(request.auth, subjects.clean_name(request.data.get("subject")))
        return Response({"subject": subject.name}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Delete every subject, with their faces and embeddings",
        operation_id="v1_subjects_destroy_all",
        responses={200: doc.DeletedCountSerializer},
    )
    def delete(self, request):
        return Response({"deleted": subjects.delete_all_subjects(request.auth)})


class SubjectDetailView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Rename a subject; renaming onto an existing subject merges them",
        request=doc.SubjectNameSerializer,
        responses={200: doc.RenamedSerializer, 404: ERRORS[404]},
    )
    def put(self, request, subject: str):
        new = subjects.clean_name(request.data.get("subject"))
        target, merged = subjects.rename_subject(request.auth, subject, new)
        return Response({"subject": target.name, "merged": merged})

    @extend_schema(
        summary="Delete a subject with its faces and embeddings",
        responses={200: doc.SubjectDeletedSerializer, 404: ERRORS[404]},
    )
    def delete(self, request, subject: str):
        found = subjects.get_subject(request.auth, subject)
        return Response({"subject": found.name, "deleted_faces": subjects.delete_subject(found)})


class SubjectFacesView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Add an example photo of a subject (exactly one face)",
        request=with_image(doc.ImageInputSerializer),
        responses={201: doc.ExampleCreatedSerializer, **ERRORS},
        description="Image as multipart `image`, JSON `image_base64` or `image_url`. Creates the subject "
        "if needed. 400 `no_face` / `more_than_one_face` unless exactly one face is above det_prob_threshold.",
    )
    def post(self, request, subject: str):
        name = subjects.clean_name(subject)
        checked = checked_named_image(request, "image")
        options = {"det_prob_threshold": threshold_option(request)}
        image = probes.run(request.auth, checked, probes.EXAMPLE, options)
        try:
            face = subjects.enrol(request.auth, name, image, checked.data)
        except ApiError:
            probes.discard(image)
            raise
        return Response({"face_id": str(face.id), "subject": name}, status=status.HTTP_201_CREATED)


class FaceListView(APIView):
    @extend_schema(
        summary="List subjects' faces, paginated",
        parameters=[
            OpenApiParameter("subject", str),
            OpenApiParameter("page", int, description="From 0."),
            OpenApiParameter("size", int, description="1-500, default 50."),
        ],
        responses={200: doc.ExamplePageSerializer},
    )
    def get(self, request):
        page = int_option(request, "page", 0, 0, 10**9)
        size = int_option(request, "size", 50, 1, MAX_PAGE_SIZE)
        faces = Face.objects.filter(application=request.auth, subject__isnull=False).select_related("subject")
        name = request.query_params.get("subject")
        if name:
            faces = faces.filter(subject__name=name)
        total = faces.count()
        rows = faces.order_by("subject__name", "created_at", "id")[page * size : (page + 1) * size]
        return Response(
            {
                "faces": [example_json(f) for f in rows],
                "page": page,
                "size": size,
                "total_elements": total,
                "total_pages": (total + size - 1) // size,
            }
        )


class FaceDetailView(APIView):
    @extend_schema(
        summary="Delete a face and its embedding",
        responses={200: doc.FaceDeletedSerializer, 404: ERRORS[404]},
    )
    def delete(self, request, face_id: str):
        face = own_face(request, face_id)
        body = {"face_id": str(face.id), "subject": face.subject.name if face.subject_id else None}
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
            raise ApiError("original_deleted", "The original was deleted and no crop was kept.", 409) from exc
        except StorageUnavailable as exc:
            raise ApiError("storage_unavailable", "The object store is unavailable; try again.", 503) from exc
        return HttpResponse(jpeg, content_type="image/jpeg")


class RecognizeView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Recognize the faces of one image (synchronous)",
        request=with_image(doc.RecognizeInputSerializer),
        responses={200: doc.RecognitionSerializer, **ERRORS},
        description="For every face (largest first, `limit`), the `prediction_count` most similar subjects "
        "with `similarity` in [0, 1] (0.5 at the model's threshold).",
    )
    def post(self, request):
        checked = checked_named_image(request, "image")
        options = {
            "det_prob_threshold": threshold_option(request),
            "limit": int_option(request, "limit", 0),
            "prediction_count": int_option(request, "prediction_count", 1, 1, 100),
            "recognize": True,
        }
        image = probes.run(request.auth, checked, probes.PROBE, options)
        try:
            result = (image.result or {}).get("recognition") or {}
        finally:
            probes.discard(image)
        return Response(result)


class VerifyView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Compare every face of target_image with the largest face of source_image (synchronous)",
        request=with_image(doc.VerifyInputSerializer),
        responses={200: doc.VerificationSerializer, **ERRORS},
    )
    def post(self, request):
        source = checked_named_image(request, "source_image")
        target = checked_named_image(request, "target_image")
        threshold = threshold_option(request)
        limit = int_option(request, "limit", 0)
        images = []
        try:
            images.append(
                probes.submit(request.auth, source, probes.PROBE, {"det_prob_threshold": threshold})
            )
            images.append(
                probes.submit(
                    request.auth, target, probes.PROBE, {"det_prob_threshold": threshold, "limit": limit}
                )
            )
            done = [probes.wait(image) for image in images]
            for image, field in zip(done, ("source_image", "target_image"), strict=True):
                if image.status != "done":
                    raise probes.failure_error(image, field)
            return Response(verification(*done, threshold))
        finally:
            for image in images:
                probes.discard(image)


def verification(source, target, det_prob_threshold: float | None) -> dict:
    source_faces = list(source.faces.all())
    target_faces = list(target.faces.all())
    if not source_faces:
        raise ApiError("no_face", "source_image: no face found above det_prob_threshold.")
    if not target_faces:
        raise ApiError("no_face", "target_image: no face found above det_prob_threshold.")
    src = source_faces[0]
    info = model_info(src.model)
    faces = []
    for face in target_faces:
        item = face_json(face)
        item.pop("face_id")
        distance = float(np.linalg.norm(np.asarray(src.embedding) - np.asarray(face.embedding)))
        item.update(
            {
                "similarity": round(info.similarity(distance), 5),
                "distance": round(distance, 5),
                "verified": info.same_person(distance),
            }
        )
        faces.append(item)
    source_json = face_json(src)
    source_json.pop("face_id")
    return {
        "source_face": source_json,
        "faces": faces,
        "model": info.name,
        "threshold": info.threshold,
        "det_prob_threshold": det_prob_threshold_of(source),
    }


class DetectView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Detect faces: boxes, probabilities, landmarks (synchronous)",
        request=with_image(doc.DetectInputSerializer),
        responses={200: doc.DetectionSerializer, **ERRORS},
    )
    def post(self, request):
        checked = checked_named_image(request, "image")
        options = {"det_prob_threshold": threshold_option(request), "limit": int_option(request, "limit", 0)}
        image = probes.run(request.auth, checked, probes.PROBE, options)
        try:
            faces = []
            for face in image.faces.all():
                item = face_json(face)
                item.pop("face_id")
                faces.append(item)
            body = {
                "width": image.width,
                "height": image.height,
                "det_prob_threshold": det_prob_threshold_of(image),
                "face_count": len(faces),
                "faces": faces,
            }
        finally:
            probes.discard(image)
        return Response(body)


class ImageMatchesView(APIView):
    @extend_schema(
        summary="Faces in other images of this application that are the same person",
        responses={200: doc.ImageMatchesSerializer, 404: ERRORS[404]},
    )
    def get(self, request, image_id: str):
        image = own_image(request, image_id)
        out = []
        for face in image.faces.all():
            matches = (
                Match.objects.filter(face=face)
                .select_related("other_face")
                .order_by("distance", "other_face_id")
            )
            out.append(
                {"face_id": str(face.id), "box": face.box(), "matches": [match_json(m) for m in matches]}
            )
        return Response({"image_id": str(image.id), "status": image.status, "faces": out})


class ClusterListView(APIView):
    @extend_schema(
        summary="Suggested people: clusters of unnamed faces, largest first",
        responses={200: doc.ClusterListSerializer},
    )
    def get(self, request):
        clusters = Cluster.objects.filter(application=request.auth).order_by("-updated_at", "id")
        members: dict[int, list[str]] = {}
        for face_id, cluster_id in Face.objects.filter(cluster__in=clusters).values_list("id", "cluster_id"):
            members.setdefault(cluster_id, []).append(str(face_id))
        rows = [cluster_json(c, members[c.id]) for c in clusters if members.get(c.id)]
        rows.sort(key=lambda r: -r["face_count"])
        return Response({"clusters": rows})


class ClusterAssignView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        summary="Turn a cluster into examples of a subject (created when missing)",
        request=doc.SubjectNameSerializer,
        responses={200: doc.AssignedSerializer, 404: ERRORS[404]},
    )
    def post(self, request, cluster_id: int):
        name = subjects.clean_name(request.data.get("subject"))
        cluster = Cluster.objects.filter(pk=cluster_id, application=request.auth).first()
        if cluster is None:
            raise ApiError("cluster_not_found", f"No cluster {cluster_id}.", 404)
        subject, face_ids = subjects.assign_cluster(request.auth, cluster, name)
        return Response({"subject": subject.name, "face_ids": face_ids})
