"""CompreFace's JSON shapes: every answer of the compatible API is rendered through one of these
(so the OpenAPI schema is what is sent) from the dicts of compreface.render. Optional keys are
absent, never null, when not asked for."""

from __future__ import annotations

from rest_framework import serializers


class CompreFaceErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.IntegerField(help_text="CompreFace's error code, e.g. 28: no face found.")


class CompreFaceBoxSerializer(serializers.Serializer):
    probability = serializers.FloatField()
    x_max = serializers.IntegerField()
    y_max = serializers.IntegerField()
    x_min = serializers.IntegerField()
    y_min = serializers.IntegerField()


class CompreFacePoseSerializer(serializers.Serializer):
    pitch = serializers.FloatField()
    roll = serializers.FloatField()
    yaw = serializers.FloatField()


class CompreFaceFaceSerializer(serializers.Serializer):
    embedding = serializers.ListField(
        child=serializers.FloatField(), required=False, help_text="face_plugins=calculator."
    )
    box = CompreFaceBoxSerializer()
    landmarks = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        required=False,
        help_text="face_plugins=landmarks: [x, y] of left eye, right eye, nose, mouth left, mouth right.",
    )
    pose = CompreFacePoseSerializer(
        required=False, help_text="face_plugins=pose: degrees, from the landmarks."
    )
    quality = serializers.JSONField(
        required=False, help_text="face_plugins=quality (facecore's): score in [0, 1], reasons, measures."
    )
    execution_time = serializers.DictField(
        child=serializers.FloatField(), required=False, help_text="status=true: milliseconds."
    )


class CompreFacePredictionSerializer(serializers.Serializer):
    subject = serializers.CharField()
    similarity = serializers.FloatField(help_text="0..1; 0.5 at the model's calibrated threshold.")


class CompreFaceRecognizedFaceSerializer(CompreFaceFaceSerializer):
    subjects = CompreFacePredictionSerializer(many=True)


class CompreFacePluginsVersionsField(serializers.DictField):
    def __init__(self, **kwargs) -> None:
        super().__init__(child=serializers.CharField(), required=False, help_text="status=true.", **kwargs)


class CompreFaceRecognitionSerializer(serializers.Serializer):
    result = CompreFaceRecognizedFaceSerializer(many=True)
    plugins_versions = CompreFacePluginsVersionsField()


class CompreFaceDetectionSerializer(serializers.Serializer):
    result = CompreFaceFaceSerializer(many=True)
    plugins_versions = CompreFacePluginsVersionsField()


class CompreFaceExampleMatchSerializer(CompreFaceFaceSerializer):
    subject = serializers.CharField()
    similarity = serializers.FloatField()


class CompreFaceExampleVerificationSerializer(serializers.Serializer):
    result = CompreFaceExampleMatchSerializer(many=True)
    plugins_versions = CompreFacePluginsVersionsField()


class CompreFaceFaceMatchSerializer(CompreFaceFaceSerializer):
    similarity = serializers.FloatField()


class CompreFaceVerificationResultSerializer(serializers.Serializer):
    source_image_face = CompreFaceFaceSerializer()
    face_matches = CompreFaceFaceMatchSerializer(many=True)
    plugins_versions = CompreFacePluginsVersionsField()


class CompreFaceVerificationSerializer(serializers.Serializer):
    result = CompreFaceVerificationResultSerializer(many=True)


class CompreFaceSubjectSerializer(serializers.Serializer):
    subject = serializers.CharField()


class CompreFaceSubjectsSerializer(serializers.Serializer):
    subjects = serializers.ListField(child=serializers.CharField())


class CompreFaceUpdatedSerializer(serializers.Serializer):
    updated = serializers.BooleanField()


class CompreFaceDeletedSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()


class CompreFaceExampleSerializer(serializers.Serializer):
    image_id = serializers.UUIDField(help_text="The example's id (facecore's face_id).")
    subject = serializers.CharField()


class CompreFaceExamplePageSerializer(serializers.Serializer):
    faces = CompreFaceExampleSerializer(many=True)
    page_number = serializers.IntegerField()
    page_size = serializers.IntegerField(help_text="The requested size.")
    total_pages = serializers.IntegerField()
    total_elements = serializers.IntegerField()


# --- requests (documentation only; compreface.intake and compreface.params read them) --------


class CompreFaceFileInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The photo: a multipart file, or base64 in a JSON body.")


class CompreFaceVerificationInputSerializer(serializers.Serializer):
    source_image = serializers.FileField(help_text="A multipart file, or base64 in a JSON body.")
    target_image = serializers.FileField(help_text="A multipart file, or base64 in a JSON body.")
