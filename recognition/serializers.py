"""OpenAPI documentation of the recognition endpoints (answers are built in views/presenters)."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import BoxSerializer, ErrorSerializer, FaceSerializer


class SubjectNameSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200, help_text="1-200 characters, no '/'.")


class SubjectCountSerializer(SubjectNameSerializer):
    face_count = serializers.IntegerField()


class SubjectListSerializer(serializers.Serializer):
    subjects = SubjectCountSerializer(many=True)


class RenamedSerializer(SubjectNameSerializer):
    merged = serializers.BooleanField(help_text="True when the new name existed and the two were merged.")


class SubjectDeletedSerializer(SubjectNameSerializer):
    deleted_faces = serializers.IntegerField()


class DeletedCountSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()


class ImageInputSerializer(serializers.Serializer):
    image = serializers.FileField(required=False, help_text="The photo (multipart/form-data).")
    image_base64 = serializers.CharField(required=False, help_text="The photo, base64 (JSON).")
    image_url = serializers.CharField(required=False, help_text="An http(s) URL of the photo (JSON).")
    det_prob_threshold = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)


class RecognizeInputSerializer(ImageInputSerializer):
    limit = serializers.IntegerField(required=False, min_value=0, help_text="N largest faces; 0 = all.")
    prediction_count = serializers.IntegerField(required=False, min_value=1, max_value=100, default=1)


class DetectInputSerializer(ImageInputSerializer):
    limit = serializers.IntegerField(required=False, min_value=0, help_text="N largest faces; 0 = all.")


class VerifyInputSerializer(serializers.Serializer):
    source_image = serializers.FileField(help_text="File, or in JSON a base64 string or http(s) URL.")
    target_image = serializers.FileField(help_text="File, or in JSON a base64 string or http(s) URL.")
    source_image_base64 = serializers.CharField(required=False)
    source_image_url = serializers.CharField(required=False)
    target_image_base64 = serializers.CharField(required=False)
    target_image_url = serializers.CharField(required=False)
    det_prob_threshold = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)
    limit = serializers.IntegerField(required=False, min_value=0, help_text="Target faces; 0 = all.")


class ExampleCreatedSerializer(SubjectNameSerializer):
    face_id = serializers.UUIDField()


class ExampleSerializer(serializers.Serializer):
    face_id = serializers.UUIDField()
    subject = serializers.CharField(allow_null=True)
    image_id = serializers.UUIDField()
    model = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class ExamplePageSerializer(serializers.Serializer):
    faces = ExampleSerializer(many=True)
    page = serializers.IntegerField()
    size = serializers.IntegerField()
    total_elements = serializers.IntegerField()
    total_pages = serializers.IntegerField()


class FaceDeletedSerializer(serializers.Serializer):
    face_id = serializers.UUIDField()
    subject = serializers.CharField(allow_null=True)


class PredictionSerializer(serializers.Serializer):
    subject = serializers.CharField()
    similarity = serializers.FloatField(help_text="0..1; 0.5 at the model's threshold.")
    distance = serializers.FloatField(help_text="L2 distance between the unit embeddings.")


class RecognizedFaceSerializer(FaceSerializer):
    face_id = serializers.UUIDField(required=False, help_text="Only in a job's `recognition`.")
    subjects = PredictionSerializer(many=True)


class RecognitionSerializer(serializers.Serializer):
    model = serializers.CharField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True)
    det_prob_threshold = serializers.FloatField()
    prediction_count = serializers.IntegerField()
    faces = RecognizedFaceSerializer(many=True)


class DetectedFaceSerializer(serializers.Serializer):
    box = BoxSerializer()
    probability = serializers.FloatField()
    landmarks = serializers.DictField(child=serializers.ListField(child=serializers.FloatField()))


class DetectionSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    det_prob_threshold = serializers.FloatField()
    face_count = serializers.IntegerField()
    faces = DetectedFaceSerializer(many=True)


class VerifiedFaceSerializer(DetectedFaceSerializer):
    similarity = serializers.FloatField()
    distance = serializers.FloatField()
    verified = serializers.BooleanField()


class VerificationSerializer(serializers.Serializer):
    source_face = DetectedFaceSerializer()
    faces = VerifiedFaceSerializer(many=True)
    model = serializers.CharField()
    threshold = serializers.FloatField()
    det_prob_threshold = serializers.FloatField()


class MatchSerializer(serializers.Serializer):
    face_id = serializers.UUIDField()
    image_id = serializers.UUIDField()
    box = BoxSerializer()
    distance = serializers.FloatField()
    similarity = serializers.FloatField()


class FaceMatchesSerializer(serializers.Serializer):
    face_id = serializers.UUIDField()
    box = BoxSerializer()
    matches = MatchSerializer(many=True)


class ImageMatchesSerializer(serializers.Serializer):
    image_id = serializers.UUIDField()
    status = serializers.CharField()
    faces = FaceMatchesSerializer(many=True)


class ClusterSerializer(serializers.Serializer):
    cluster_id = serializers.IntegerField()
    face_count = serializers.IntegerField()
    face_ids = serializers.ListField(child=serializers.UUIDField())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ClusterListSerializer(serializers.Serializer):
    clusters = ClusterSerializer(many=True)


class AssignedSerializer(SubjectNameSerializer):
    face_ids = serializers.ListField(child=serializers.UUIDField())


ERROR = ErrorSerializer
