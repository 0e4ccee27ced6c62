"""The six face endpoints of DeepStack's API. Each reads DeepStack's form fields, calls the same
service as facecore's own API (recognition.sync, recognition.subjects) and answers DeepStack's
shape (adapters.deepstack.serializers). Photos are multipart file parts; facecore's worker
detects (MTCNN, FACECORE_DET_PROB_THRESHOLD) and embeds them."""

from __future__ import annotations

import logging
import time

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from adapters.deepstack import serializers as out
from adapters.deepstack.auth import DeepStackKey
from adapters.deepstack.errors import SHAPE
from adapters.deepstack.middleware import MAX_REGISTER_IMAGES
from adapters.intake import checked_upload
from api.views.common import PARSERS
from images.checks import CheckedImage
from infra.errors import ErrorCode, ServiceError
from recognition import subjects, sync
from tenants.auth import HasApplication

log = logging.getLogger(__name__)

TAG = "DeepStack-compatible"
ERRORS = {status: OpenApiResponse(out.DeepStackErrorSerializer) for status in (400, 401, 413, 503)}
UNKNOWN = "unknown"


def form(serializer) -> dict:
    return {"multipart/form-data": serializer}


def text_field(request, name: str) -> str | None:
    value = request.data.get(name) if isinstance(request.data, dict) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):  # a JSON body's number
        return str(value)
    if not isinstance(value, str):
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{name}' must be a text field.")
    return value.strip()


def required_text(request, name: str) -> str:
    value = text_field(request, name)
    if value is None:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{name}' is required.")
    return value


def min_confidence(request) -> float | None:
    value = text_field(request, "min_confidence")
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, f"'min_confidence' must be a number; got {value!r}."
        ) from exc
    if not 0.0 <= number <= 1.0:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "'min_confidence' must be between 0 and 1.")
    return number


def image_part(request, name: str) -> CheckedImage:
    upload = request.FILES.get(name)
    if upload is None:
        if text_field(request, name) is not None:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{name}' must be a file part, not a text field.")
        raise ServiceError(
            ErrorCode.MISSING_IMAGE, f"No image: send the photo as the multipart file part '{name}'."
        )
    return checked_upload(upload, name)


def box(face: dict) -> dict:
    b = face["box"]
    return {
        "x_min": int(b["x_min"]),
        "y_min": int(b["y_min"]),
        "x_max": int(b["x_max"]),
        "y_max": int(b["y_max"]),
    }


def inference_ms(timings: dict | None) -> int:
    timings = timings or {}
    return round(float(timings.get("detect", 0.0)) + float(timings.get("embed", 0.0)))


def plural(count: int, what: str) -> str:
    return f"{count} {what}" + ("" if count == 1 else "s")


class VisionView(APIView):
    """DeepStack's key (adapters.deepstack.auth) and error answers (adapters.deepstack.errors)."""

    authentication_classes = [DeepStackKey]
    permission_classes = [HasApplication]
    parser_classes = PARSERS

    def initial(self, request, *args, **kwargs):
        self.started = time.monotonic()
        super().initial(request, *args, **kwargs)

    def get_exception_handler(self):
        return SHAPE.exception_handler

    def answer(self, serializer, **fields) -> Response:
        elapsed = round((time.monotonic() - self.started) * 1000)
        return Response(serializer({"success": True, "code": 200, **fields, "processMs": elapsed}).data)


class DetectView(VisionView):
    @extend_schema(
        tags=[TAG],
        summary="Detect faces (min_confidence keeps faces at least that probable)",
        request=form(out.DeepStackImageInputSerializer),
        responses={200: out.DeepStackDetectionSerializer, **ERRORS},
    )
    def post(self, request):
        checked = image_part(request, "image")
        minimum = min_confidence(request)
        answer = sync.detect(request.auth, checked, det_prob_threshold=None, limit=0, timings=True)
        predictions = [
            {"confidence": float(face["probability"]), **box(face)}
            for face in answer["faces"]
            if minimum is None or float(face["probability"]) >= minimum
        ]
        return self.answer(
            out.DeepStackDetectionSerializer,
            message=f"Found {plural(len(predictions), 'face')}",
            predictions=predictions,
            count=len(predictions),
            inferenceMs=inference_ms(answer.get("timings")),
        )


class RegisterView(VisionView):
    @extend_schema(
        tags=[TAG],
        summary="Add photos of a person (every file part; each must show one face)",
        request=form(out.DeepStackRegisterInputSerializer),
        responses={200: out.DeepStackAnswerSerializer, **ERRORS},
        description="Each photo becomes an example of `userid` (created when new: `face added`; "
        "else `face updated`). A photo without exactly one usable face is skipped when another "
        "photo was added, else the call is refused (400).",
    )
    def post(self, request):
        userid = required_text(request, "userid")
        parts = [(name, upload) for name, uploads in request.FILES.lists() for upload in uploads]
        if not parts:
            raise ServiceError(ErrorCode.MISSING_IMAGE, "No image: send the photos as multipart file parts.")
        if len(parts) > MAX_REGISTER_IMAGES:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"At most {MAX_REGISTER_IMAGES} photos per call.")
        photos = [(name, checked_upload(upload, name)) for name, upload in parts]
        name = subjects.resolve_name(request.auth, subjects.clean_name(userid, "userid"))
        existed = request.auth.subjects.filter(name=name).exists()
        added, refused = 0, []
        for part, checked in photos:
            try:
                sync.add_example(request.auth, name, checked, None)
                added += 1
            except ServiceError as exc:
                if exc.status >= 500:
                    raise
                refused.append(exc.prefixed(part))
        if not added:
            raise refused[0]
        for error in refused:
            log.info("deepstack register %r: skipped %s", name, error.message)
        return self.answer(out.DeepStackAnswerSerializer, message="face updated" if existed else "face added")


class RecognizeView(VisionView):
    @extend_schema(
        tags=[TAG],
        summary="Recognize every face: its userid, or `unknown`",
        request=form(out.DeepStackImageInputSerializer),
        responses={200: out.DeepStackRecognitionSerializer, **ERRORS},
        description="A face is a userid only when facecore's decision names that subject (the "
        "quality-aware rule, not a similarity cut) and, when sent, its confidence is at least "
        "`min_confidence`; else `unknown` with confidence 0. confidence is facecore's similarity "
        "to the subject's nearest example (0.5 at the model's threshold; a match is above 0.97).",
    )
    def post(self, request):
        checked = image_part(request, "image")
        minimum = min_confidence(request)
        answer = sync.recognize(
            request.auth, checked, det_prob_threshold=None, limit=0, prediction_count=1, timings=True
        )
        predictions = []
        for face in answer.get("faces", []):
            userid, confidence = UNKNOWN, 0.0
            named = face["subject"]  # facecore's decision: a subject only for a match
            best = next((p for p in face["subjects"] if p["subject"] == named), None) if named else None
            if best is not None and (minimum is None or best["similarity"] >= minimum):
                userid, confidence = named, best["similarity"]
            predictions.append({"confidence": confidence, "userid": userid, **box(face)})
        known = sum(p["userid"] != UNKNOWN for p in predictions)
        return self.answer(
            out.DeepStackRecognitionSerializer,
            message=f"Found {plural(known, 'known face')}" if known else "No known faces",
            predictions=predictions,
            count=len(predictions),
            inferenceMs=inference_ms(answer.get("timings")),
        )


class ListView(VisionView):
    @extend_schema(
        tags=[TAG],
        summary="The registered userids",
        request=form(out.DeepStackKeyInputSerializer),
        responses={200: out.DeepStackFaceListSerializer, **ERRORS},
    )
    def post(self, request):
        names = list(request.auth.subjects.order_by("name").values_list("name", flat=True))
        return self.answer(
            out.DeepStackFaceListSerializer, message=plural(len(names), "face"), faces=names, count=len(names)
        )


class DeleteView(VisionView):
    @extend_schema(
        tags=[TAG],
        summary="Delete a userid with all its photos (an unknown userid is no error, as in DeepStack)",
        request=form(out.DeepStackUserInputSerializer),
        responses={200: out.DeepStackAnswerSerializer, **ERRORS},
    )
    def post(self, request):
        userid = required_text(request, "userid")
        stored = subjects.resolve_name(request.auth, subjects.clean_name(userid, "userid"))
        found = request.auth.subjects.filter(name=stored).first()
        deleted = subjects.delete_subject(found).deleted_faces if found else 0
        return self.answer(out.DeepStackAnswerSerializer, message=f"{plural(deleted, 'face')} deleted")


class MatchView(VisionView):
    @extend_schema(
        tags=[TAG],
        summary="How similar the largest faces of two photos are",
        request=form(out.DeepStackMatchInputSerializer),
        responses={200: out.DeepStackMatchSerializer, **ERRORS},
    )
    def post(self, request):
        first, second = image_part(request, "image1"), image_part(request, "image2")
        try:
            answer = sync.verify(request.auth, first, second, det_prob_threshold=None, limit=1)
        except ServiceError as exc:  # name the photos as they were sent
            message = exc.message.replace("source_image", "image1").replace("target_image", "image2")
            raise ServiceError(exc.code, message, status=exc.status, details=exc.details) from exc
        return self.answer(out.DeepStackMatchSerializer, similarity=answer["faces"][0]["similarity"])
