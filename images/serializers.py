"""The JSON of images: one definition per shape, used to render the API answers and the
webhook body and to document them in the OpenAPI schema."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from images.face_plugins import AVAILABLE, plugin_values
from images.models import Face, Image, ImageStatus, WebhookDelivery


class RoundedFloatField(serializers.FloatField):
    def __init__(self, digits: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.digits = digits

    def to_representation(self, value) -> float:
        return round(float(value), self.digits)


class BlankAsNullCharField(serializers.CharField):
    """An empty string in the database is ``null`` in the JSON."""

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value) -> str | None:
        return value or None


class BoxSerializer(serializers.Serializer):
    """Pixels of the original image after EXIF rotation; x_max/y_max exclusive."""

    x_min = serializers.IntegerField()
    y_min = serializers.IntegerField()
    x_max = serializers.IntegerField()
    y_max = serializers.IntegerField()


class PoseSerializer(serializers.Serializer):
    """Head pose in degrees from the five landmarks (face plugin ``pose``)."""

    yaw = serializers.FloatField(help_text="Positive when the nose points to the image's right.")
    pitch = serializers.FloatField(help_text="Positive when the chin is up.")
    roll = serializers.FloatField(help_text="Positive when the face is rotated clockwise on screen.")


class FaceSerializer(serializers.Serializer):
    """A face; ``embedding`` and ``model`` only with ``context["include_embedding"]`` or the
    ``calculator`` plugin, ``pose`` and ``quality`` only with their plugins
    (``context["plugins"]``, images.face_plugins)."""

    face_id = serializers.UUIDField(source="id")
    box = BoxSerializer(source="*")
    probability = RoundedFloatField(6)
    landmarks = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField()),
        help_text="left_eye, right_eye, nose, mouth_left, mouth_right: [x, y] in original pixels.",
    )
    embedding = serializers.ListField(
        child=serializers.FloatField(), required=False, allow_null=True, help_text="With ?include=embedding."
    )
    model = BlankAsNullCharField(required=False, help_text="With ?include=embedding.")
    pose = PoseSerializer(required=False, allow_null=True, help_text="With the `pose` plugin.")
    quality = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="With the `quality` plugin: `score` in [0, 1], `reasons`, and the measures "
        "(size, sharpness, pose, exposure) it was computed from; null for faces stored before it existed.",
    )

    def to_representation(self, face: Face) -> dict:
        out = super().to_representation(face)
        for key in ("embedding", "model", "pose", "quality"):
            out.pop(key, None)
        plugins = set(self.context.get("plugins") or ())
        if self.context.get("include_embedding"):
            plugins.add("calculator")
        out.update(plugin_values(face, [name for name in AVAILABLE if name in plugins]))
        return out


class JobErrorSerializer(serializers.Serializer):
    """Why a job failed: a code of infra.errors.ErrorCode and a message for people."""

    code = serializers.CharField()
    message = serializers.CharField()


class WebhookAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    error = BlankAsNullCharField()
    duration_ms = RoundedFloatField(1)


class WebhookSerializer(serializers.Serializer):
    """The image's webhook: its delivery (event id, state, next attempt) and every attempt."""

    callback_url = serializers.URLField()
    event_id = serializers.SerializerMethodField(help_text="X-Facecore-Event-Id, the same on every attempt.")
    status = serializers.SerializerMethodField(help_text="pending, delivered, failed or refused.")
    next_attempt_at = serializers.SerializerMethodField()
    attempts = WebhookAttemptSerializer(source="webhook_attempts.all", many=True)

    def get_event_id(self, image: Image) -> str | None:
        delivery = _delivery(image)
        return str(delivery.id) if delivery else None

    def get_status(self, image: Image) -> str | None:
        delivery = _delivery(image)
        return delivery.status if delivery else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_attempt_at(self, image: Image) -> str | None:
        delivery = _delivery(image)
        if delivery is None or delivery.status != "pending":
            return None
        return serializers.DateTimeField().to_representation(delivery.next_attempt_at)


def _delivery(image: Image) -> WebhookDelivery | None:
    try:
        return image.delivery
    except WebhookDelivery.DoesNotExist:
        return None


class AcceptedSerializer(serializers.Serializer):
    """The answer to an upload (202, or 200 for a repeated request_id)."""

    image_id = serializers.UUIDField(source="id")
    status = serializers.CharField()
    status_url = serializers.SerializerMethodField()

    def get_status_url(self, image: Image) -> str:
        return self.context.get("base_url", "") + status_path(image)


def status_path(image: Image) -> str:
    return reverse("image-detail", kwargs={"image_id": image.id})


class ImageSummarySerializer(serializers.Serializer):
    """The fields shown in lists; ``context["base_url"]`` prefixes ``status_url``."""

    image_id = serializers.UUIDField(source="id")
    status = serializers.CharField()
    status_url = serializers.SerializerMethodField()
    request_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.SerializerMethodField()

    def get_status_url(self, image: Image) -> str:
        return self.context.get("base_url", "") + status_path(image)

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, image: Image) -> dict | None:
        return {"code": image.error_code, "message": image.error_message} if image.error_code else None


class ImageStatusSerializer(ImageSummarySerializer):
    """GET /api/v1/images/{image_id}, and the webhook body: summary, image facts, timings,
    faces (once done) and webhook attempts."""

    attempts = serializers.IntegerField(
        source="deliveries", help_text="How many times a worker started the job."
    )
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="While `retrying`: when the job runs again."
    )
    last_error = JobErrorSerializer(
        allow_null=True, help_text="While `retrying`: why the last attempt stopped."
    )

    format = BlankAsNullCharField()
    size_bytes = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    options = serializers.JSONField()
    timings = serializers.DictField(child=serializers.FloatField())
    original_deleted = serializers.BooleanField()
    annotated_url = serializers.SerializerMethodField()
    face_count = serializers.SerializerMethodField()
    faces = serializers.SerializerMethodField()
    recognition = serializers.SerializerMethodField(
        help_text="With option recognize: the recognize answer, with each face's face_id."
    )
    webhook = serializers.SerializerMethodField()

    def _faces(self, image: Image) -> list[Face]:
        if image.status != ImageStatus.DONE:
            return []
        cache = self.context.setdefault("_faces", {})
        if image.pk not in cache:
            cache[image.pk] = list(image.faces.all())
        return cache[image.pk]

    def get_annotated_url(self, image: Image) -> str:
        return self.get_status_url(image) + "/annotated"

    def get_face_count(self, image: Image) -> int:
        return len(self._faces(image))

    @extend_schema_field(FaceSerializer(many=True))
    def get_faces(self, image: Image) -> list[dict]:
        return FaceSerializer(self._faces(image), many=True, context=self.context).data

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_recognition(self, image: Image) -> dict | None:
        return (image.result or {}).get("recognition")

    @extend_schema_field(WebhookSerializer(allow_null=True))
    def get_webhook(self, image: Image) -> dict | None:
        return WebhookSerializer(image).data if image.callback_url else None

    def to_representation(self, image: Image) -> dict:
        out = super().to_representation(image)
        if self.context.get("include_embedding"):
            out["model"] = next((f.model for f in self._faces(image) if f.model), None)
        return out


def image_status(
    image: Image,
    include_embedding: bool = False,
    base_url: str | None = None,
    plugins: tuple[str, ...] = (),
) -> dict:
    """The status document; without ``base_url``, URLs start with FACECORE_PUBLIC_URL (webhooks).
    ``plugins`` (images.face_plugins) add their fields to each face; ``calculator`` is
    ``include_embedding``."""
    if base_url is None:
        base_url = settings.FACECORE_PUBLIC_URL
    include_embedding = include_embedding or "calculator" in plugins
    context = {"base_url": base_url, "include_embedding": include_embedding, "plugins": plugins}
    return ImageStatusSerializer(image, context=context).data


def image_summary(image: Image, base_url: str = "") -> dict:
    return ImageSummarySerializer(image, context={"base_url": base_url}).data


class SubjectShrunkSerializer(serializers.Serializer):
    subject = serializers.CharField()
    removed_faces = serializers.IntegerField(help_text="Examples of this subject deleted with the image.")
    remaining_faces = serializers.IntegerField(help_text="Examples the subject has left.")


class ImageDeletedSerializer(serializers.Serializer):
    """What DELETE /images/{id} removed (an images.deletion.ImageDeletion)."""

    image_id = serializers.UUIDField()
    deleted_faces = serializers.IntegerField(help_text="Faces deleted with their embeddings and crops.")
    subjects = SubjectShrunkSerializer(
        many=True, help_text="Subjects that lost examples (faces of this image assigned to them)."
    )
