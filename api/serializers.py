"""Request validation and request documentation of the API (answers are rendered by the
serializers of the apps that own the data: images.serializers, recognition.serializers)."""

from __future__ import annotations

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error answer (api.errors)."""

    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(required=False)


MAX_FACES_LIMIT = 1000
"""The largest ``limit`` accepted (keep the N largest faces)."""


class StrictFloatField(serializers.FloatField):
    """A number; ``true``/``false`` are refused (Python would take them as 1.0 and 0.0)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer; ``true``/``false`` are refused (Python would take them as 1 and 0)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class UploadOptionsSerializer(serializers.Serializer):
    """Options of POST /api/v1/images (the image itself is read by api.intake)."""

    image = serializers.FileField(required=False, help_text="The photo (multipart/form-data).")
    image_base64 = serializers.CharField(required=False, help_text="The photo, base64 (JSON).")
    image_url = serializers.CharField(required=False, help_text="An http(s) URL of the photo (JSON).")
    request_id = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=200,
        help_text="Idempotency key: the same request_id returns the same image and starts no second job.",
    )
    callback_url = serializers.URLField(
        required=False, allow_null=True, max_length=2000, help_text="Webhook receiver for the result."
    )
    det_prob_threshold = StrictFloatField(required=False, allow_null=True, min_value=0.0, max_value=1.0)
    limit = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_FACES_LIMIT,
        help_text="Keep only the N largest faces; 0 = all.",
    )
    recognize = serializers.BooleanField(
        required=False, default=False, help_text="Also recognize subjects (status `recognition`)."
    )
    prediction_count = StrictIntegerField(required=False, min_value=1, max_value=100, default=1)

    def validate_request_id(self, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise serializers.ValidationError("request_id must not be blank.")
        return value


class SubjectNameInputSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200, help_text="1-200 characters, no '/'.")


class ImageInputSerializer(serializers.Serializer):
    image = serializers.FileField(required=False, help_text="The photo (multipart/form-data).")
    image_base64 = serializers.CharField(required=False, help_text="The photo, base64 (JSON).")
    image_url = serializers.CharField(required=False, help_text="An http(s) URL of the photo (JSON).")
    det_prob_threshold = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)


FACE_PLUGINS_HELP = (
    "Comma-separated: `calculator` (embedding), `landmarks`, `pose`, `quality`; others are refused."
)


class RecognizeInputSerializer(ImageInputSerializer):
    limit = serializers.IntegerField(required=False, min_value=0, help_text="N largest faces; 0 = all.")
    prediction_count = serializers.IntegerField(required=False, min_value=1, max_value=100, default=1)
    face_plugins = serializers.CharField(required=False, help_text=FACE_PLUGINS_HELP)


class DetectInputSerializer(ImageInputSerializer):
    limit = serializers.IntegerField(required=False, min_value=0, help_text="N largest faces; 0 = all.")
    face_plugins = serializers.CharField(required=False, help_text=FACE_PLUGINS_HELP)


class VerifyInputSerializer(serializers.Serializer):
    source_image = serializers.FileField(help_text="File, or in JSON a base64 string or http(s) URL.")
    target_image = serializers.FileField(help_text="File, or in JSON a base64 string or http(s) URL.")
    source_image_base64 = serializers.CharField(required=False)
    source_image_url = serializers.CharField(required=False)
    target_image_base64 = serializers.CharField(required=False)
    target_image_url = serializers.CharField(required=False)
    det_prob_threshold = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)
    limit = serializers.IntegerField(required=False, min_value=0, help_text="Target faces; 0 = all.")
    face_plugins = serializers.CharField(required=False, help_text=FACE_PLUGINS_HELP)


class ConfirmMatchInputSerializer(serializers.Serializer):
    subject = serializers.CharField(
        required=False,
        max_length=200,
        help_text="The subject both faces are examples of (created when missing). Optional when one "
        "face already has a subject.",
    )


class ClusterMergeInputSerializer(serializers.Serializer):
    clusters = serializers.ListField(
        child=StrictIntegerField(min_value=1),
        min_length=1,
        max_length=100,
        help_text="The clusters whose faces move into this one (they are deleted).",
    )


class ClusterSplitInputSerializer(serializers.Serializer):
    face_ids = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=1000,
        help_text="Faces of this cluster that move into a new cluster of their own.",
    )


class ImportInputSerializer(serializers.Serializer):
    """POST /api/v1/imports (multipart): an archive, or files each with its subject."""

    archive = serializers.FileField(
        required=False, help_text="A zip with one folder per subject: <subject>/<photo>."
    )
    files = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="Photos (repeat the field)."
    )
    subject = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The subject of each file, in the same order (repeat the field; one per file).",
    )
    force = serializers.BooleanField(required=False, help_text="Enrol faces below the quality floor too.")
    det_prob_threshold = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)
