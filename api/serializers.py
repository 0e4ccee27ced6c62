"""Request validation for the image endpoints (the response JSON is built in api.presenters)."""

from __future__ import annotations

from rest_framework import serializers


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
    det_prob_threshold = serializers.FloatField(required=False, allow_null=True, min_value=0.0, max_value=1.0)
    limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, help_text="Keep only the N largest faces; 0 = all."
    )

    recognize = serializers.BooleanField(
        required=False, default=False, help_text="Also recognize subjects (status `recognition`)."
    )
    prediction_count = serializers.IntegerField(required=False, min_value=1, max_value=100, default=1)

    def validate_request_id(self, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise serializers.ValidationError("request_id must not be blank.")
        return value


class AcceptedSerializer(serializers.Serializer):
    image_id = serializers.UUIDField()
    status = serializers.CharField()
    status_url = serializers.URLField()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(required=False)


class BoxSerializer(serializers.Serializer):
    x_min = serializers.IntegerField()
    y_min = serializers.IntegerField()
    x_max = serializers.IntegerField()
    y_max = serializers.IntegerField()


class FaceSerializer(serializers.Serializer):
    face_id = serializers.UUIDField()
    box = BoxSerializer()
    probability = serializers.FloatField()
    landmarks = serializers.DictField(child=serializers.ListField(child=serializers.FloatField()))
    embedding = serializers.ListField(child=serializers.FloatField(), required=False)
    model = serializers.CharField(required=False)


class WebhookAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    duration_ms = serializers.FloatField()


class WebhookSerializer(serializers.Serializer):
    callback_url = serializers.URLField()
    attempts = WebhookAttemptSerializer(many=True)


class ImageStatusSerializer(AcceptedSerializer):
    """Documentation of GET /api/v1/images/{image_id} (built by api.presenters.image_status)."""

    request_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    error = ErrorSerializer(allow_null=True)
    format = serializers.CharField(allow_null=True)
    size_bytes = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    options = serializers.JSONField()
    timings = serializers.DictField(child=serializers.FloatField())
    original_deleted = serializers.BooleanField()
    annotated_url = serializers.URLField()
    face_count = serializers.IntegerField()
    faces = FaceSerializer(many=True)
    webhook = WebhookSerializer(allow_null=True)
    recognition = serializers.JSONField(allow_null=True, help_text="With option recognize; see docs.")
