"""The image endpoints: upload (one job each), list, status, annotated preview, delete."""

from __future__ import annotations

import logging

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import ImageFilter
from api.intake import callback_allowed, request_image
from api.params import include_plugins
from api.serializers import UploadOptionsSerializer
from api.views.common import ERRORS, PARSERS, base_url, own_image
from images.annotate import annotated_jpeg
from images.deletion import delete_image
from images.models import Image, ImageStatus
from images.serializers import (
    AcceptedSerializer,
    ImageDeletedSerializer,
    ImageStatusSerializer,
    ImageSummarySerializer,
    image_status,
)
from images.submission import submit_image
from infra.errors import ErrorCode, ServiceError, storage_unavailable
from infra.storage import ObjectNotFound, StorageUnavailable, get_store

log = logging.getLogger(__name__)


class ImageListCreateView(generics.GenericAPIView):
    parser_classes = PARSERS
    filterset_class = ImageFilter
    serializer_class = UploadOptionsSerializer

    def get_queryset(self):
        return Image.objects.filter(application=self.request.auth)

    @extend_schema(
        summary="List your images",
        responses={200: ImageSummarySerializer(many=True), 401: ERRORS[401]},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = ImageSummarySerializer(page, many=True, context={"base_url": base_url(request)}).data
        return self.get_paginated_response(rows)

    @extend_schema(
        summary="Upload an image for face detection",
        description=(
            "Send the image as multipart field `image`, or JSON `image_base64` or `image_url`. "
            "Answers 202 for a new job; 200 with the same image_id when request_id was seen before."
        ),
        request={"multipart/form-data": UploadOptionsSerializer, "application/json": UploadOptionsSerializer},
        responses={202: AcceptedSerializer, 200: AcceptedSerializer, **ERRORS},
    )
    def post(self, request):
        app = request.auth
        options = UploadOptionsSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        params = options.validated_data
        request_id = params.get("request_id")
        if request_id:
            existing = Image.objects.filter(application=app, request_id=request_id).first()
            if existing:
                return self._accepted(existing, status.HTTP_200_OK)
        callback_url = params.get("callback_url") or ""
        if callback_url:
            callback_allowed(callback_url)
        checked = request_image(request)
        image, created = submit_image(
            app,
            checked,
            request_id=request_id,
            callback_url=callback_url,
            options={
                "det_prob_threshold": params.get("det_prob_threshold"),
                "limit": params.get("limit") or 0,
                "recognize": params.get("recognize", False),
                "prediction_count": params.get("prediction_count", 1),
            },
        )
        return self._accepted(image, status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)

    def _accepted(self, image: Image, code: int) -> Response:
        body = AcceptedSerializer(image, context={"base_url": base_url(self.request)}).data
        return Response(body, status=code, headers={"Location": body["status_url"]})


class ImageDetailView(APIView):
    @extend_schema(
        summary="Status and faces of one image",
        parameters=[
            OpenApiParameter(
                "include",
                str,
                description="Comma-separated: `embedding` (or `calculator`) adds each face's embedding "
                "and the model name, `pose` its yaw/pitch/roll, `quality` its quality score and measures; "
                "`landmarks` is accepted (always shown). Anything else is refused (400 `invalid_request`).",
            )
        ],
        responses={200: ImageStatusSerializer, 401: ERRORS[401], 404: ERRORS[404]},
    )
    def get(self, request, image_id: str):
        image = own_image(request, image_id)
        plugins = include_plugins(request.query_params.get("include"))
        return Response(image_status(image, base_url=base_url(request), plugins=plugins))

    @extend_schema(
        summary="Delete an image, its stored objects, faces and embeddings; says what it removed",
        description="The answer counts the faces deleted and names every subject that lost examples "
        "(faces of this image that were assigned to it), with the examples it has left.",
        responses={200: ImageDeletedSerializer, 401: ERRORS[401], 404: ERRORS[404], 503: ERRORS[503]},
    )
    def delete(self, request, image_id: str):
        deleted = delete_image(own_image(request, image_id))
        return Response(ImageDeletedSerializer(deleted).data)


class ImageAnnotatedView(APIView):
    @extend_schema(
        summary="JPEG with face boxes and landmarks drawn",
        responses={
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            401: ERRORS[401],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    def get(self, request, image_id: str):
        image = own_image(request, image_id)
        if image.status == ImageStatus.FAILED:
            raise ServiceError(
                ErrorCode.IMAGE_FAILED, "The image failed processing; there is nothing to draw."
            )
        if image.status != ImageStatus.DONE:
            raise ServiceError(
                ErrorCode.NOT_READY, f"The image is {image.status}; try again when it is done."
            )
        store = get_store()
        try:
            if image.annotated_key:
                jpeg = store.get(image.annotated_key)
            elif image.original_deleted:
                raise ObjectNotFound(image.object_key)
            else:
                jpeg = annotated_jpeg(store.get(image.object_key), list(image.faces.all()))
        except ObjectNotFound as exc:
            raise ServiceError(
                ErrorCode.ORIGINAL_DELETED,
                "The original was deleted after processing and no preview was kept.",
            ) from exc
        except StorageUnavailable as exc:
            raise storage_unavailable() from exc
        return HttpResponse(jpeg, content_type="image/jpeg")
