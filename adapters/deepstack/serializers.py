"""DeepStack's JSON shapes (and the fields CodeProject.AI Server adds), for the OpenAPI schema.

Every success answer carries ``success: true`` plus CodeProject.AI's cheap extras: ``code``
(200), ``message``, ``processMs`` (the whole request) and, where an image was processed,
``inferenceMs`` (the worker's detect + embed time) and ``count``."""

from __future__ import annotations

from rest_framework import serializers

from images.serializers import BoxSerializer


class DeepStackErrorSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = serializers.CharField()
    code = serializers.IntegerField(help_text="The HTTP status again (CodeProject.AI).")


class DeepStackAnswerSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=True)
    code = serializers.IntegerField(default=200, help_text="CodeProject.AI.")
    message = serializers.CharField(required=False)
    processMs = serializers.IntegerField(help_text="CodeProject.AI: ms spent on the request.")  # noqa: N815


class DeepStackBoxSerializer(BoxSerializer):
    """facecore's box (integer pixels, x_max/y_max exclusive) with DeepStack's ``confidence``."""

    confidence = serializers.FloatField()


class DeepStackRecognizedSerializer(DeepStackBoxSerializer):
    userid = serializers.CharField(help_text="The subject, or `unknown`.")


class DeepStackImageAnswerSerializer(DeepStackAnswerSerializer):
    count = serializers.IntegerField(help_text="CodeProject.AI: number of predictions.")
    inferenceMs = serializers.IntegerField(help_text="CodeProject.AI: the worker's ms.")  # noqa: N815


class DeepStackDetectionSerializer(DeepStackImageAnswerSerializer):
    predictions = DeepStackBoxSerializer(many=True)


class DeepStackRecognitionSerializer(DeepStackImageAnswerSerializer):
    predictions = DeepStackRecognizedSerializer(many=True)


class DeepStackFaceListSerializer(DeepStackAnswerSerializer):
    faces = serializers.ListField(child=serializers.CharField())
    count = serializers.IntegerField(help_text="CodeProject.AI: number of userids.")


class DeepStackMatchSerializer(DeepStackAnswerSerializer):
    similarity = serializers.FloatField(
        help_text="facecore's similarity, 0..1, 0.5 at the model's threshold."
    )


class DeepStackImageInputSerializer(serializers.Serializer):
    image = serializers.FileField()
    min_confidence = serializers.FloatField(required=False)
    api_key = serializers.CharField(required=False)


class DeepStackRegisterInputSerializer(serializers.Serializer):
    userid = serializers.CharField()
    image = serializers.FileField(help_text="More photos as image1, image2, ... (any file part).")
    api_key = serializers.CharField(required=False)


class DeepStackUserInputSerializer(serializers.Serializer):
    userid = serializers.CharField()
    api_key = serializers.CharField(required=False)


class DeepStackKeyInputSerializer(serializers.Serializer):
    api_key = serializers.CharField(required=False)


class DeepStackMatchInputSerializer(serializers.Serializer):
    image1 = serializers.FileField()
    image2 = serializers.FileField()
    api_key = serializers.CharField(required=False)
