"""Recognize (recognition service), detect (detection service), verify two photos
(verification service)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from adapters.compreface import params, render
from adapters.compreface import serializers as out
from adapters.compreface.intake import request_image
from adapters.compreface.views.base import (
    ERRORS,
    FACE_OPTIONS,
    PREDICTION_COUNT,
    TAG,
    CompreFaceView,
    image_body,
)
from infra.errors import ErrorCode, ServiceError
from recognition import sync


def no_face() -> ServiceError:
    """CompreFace never answers an empty ``result``: no face is code 28."""
    return ServiceError(ErrorCode.NO_FACE, "No face found above det_prob_threshold.")


class RecognizeView(CompreFaceView):
    @extend_schema(
        tags=[TAG],
        summary="Recognize the faces of a photo",
        parameters=[*FACE_OPTIONS, PREDICTION_COUNT],
        request=image_body(out.CompreFaceFileInputSerializer),
        responses={200: out.CompreFaceRecognitionSerializer, **ERRORS},
        description="For every face (largest first), the `prediction_count` most similar subjects "
        "(one entry per subject, its best example), `similarity` 0.5 at the model's threshold.",
    )
    def post(self, request):
        options = params.face_options(request)
        count = params.prediction_count(request)
        checked = request_image(request, "file")
        answer = sync.recognize(
            request.auth,
            checked,
            det_prob_threshold=options.det_prob_threshold,
            limit=options.limit,
            prediction_count=count,
            plugins=options.plugins,
            timings=options.status,
        )
        if not answer.get("faces"):
            raise no_face()
        timings = answer.get("timings") if options.status else None
        result = [
            {
                **render.face(found, options.plugins, timings=timings),
                "subjects": [
                    {"subject": p["subject"], "similarity": p["similarity"]} for p in found["subjects"]
                ],
            }
            for found in answer["faces"]
        ]
        body: dict = {"result": result}
        if options.status:
            body["plugins_versions"] = render.plugins_versions(options.plugins, answer.get("model"))
        return Response(out.CompreFaceRecognitionSerializer(body).data)


class DetectView(CompreFaceView):
    service = "Detection"

    @extend_schema(
        tags=[TAG],
        summary="Detect the faces of a photo",
        parameters=FACE_OPTIONS,
        request=image_body(out.CompreFaceFileInputSerializer),
        responses={200: out.CompreFaceDetectionSerializer, **ERRORS},
    )
    def post(self, request):
        options = params.face_options(request)
        checked = request_image(request, "file")
        answer = sync.detect(
            request.auth,
            checked,
            det_prob_threshold=options.det_prob_threshold,
            limit=options.limit,
            plugins=options.plugins,
            timings=options.status,
        )
        if not answer["faces"]:
            raise no_face()
        timings = answer.get("timings") if options.status else None
        result = [
            render.face(found, options.plugins, digits=None, timings=timings, with_calculator=False)
            for found in answer["faces"]
        ]
        body: dict = {"result": result}
        if options.status:
            model = next((f.get("model") for f in answer["faces"] if f.get("model")), None)
            body["plugins_versions"] = render.plugins_versions(options.plugins, model, with_calculator=False)
        return Response(out.CompreFaceDetectionSerializer(body).data)


class VerifyView(CompreFaceView):
    service = "Verification"

    @extend_schema(
        tags=[TAG],
        summary="Compare the face of source_image with every face of target_image",
        parameters=FACE_OPTIONS,
        request=image_body(out.CompreFaceVerificationInputSerializer),
        responses={200: out.CompreFaceVerificationSerializer, **ERRORS},
        description="source_image must hold one face (code 31 otherwise) unless `limit=1`, which "
        "takes its largest.",
    )
    def post(self, request):
        options = params.face_options(request)
        source = request_image(request, "source_image")
        target = request_image(request, "target_image")
        answer = sync.verify(
            request.auth,
            source,
            target,
            det_prob_threshold=options.det_prob_threshold,
            limit=options.limit,
            plugins=options.plugins,
            timings=options.status,
            single_source=options.limit != 1,
        )
        timings = answer.get("timings") or {}
        plugins = options.plugins
        status = options.status
        entry: dict = {
            "source_image_face": render.face(
                answer["source_face"], plugins, timings=timings.get("source_image") if status else None
            ),
            "face_matches": [
                {
                    **render.face(found, plugins, timings=timings.get("target_image") if status else None),
                    "similarity": found["similarity"],
                }
                for found in answer["faces"]
            ],
        }
        if status:
            entry["plugins_versions"] = render.plugins_versions(plugins, answer["model"])
        return Response(out.CompreFaceVerificationSerializer({"result": [entry]}).data)
