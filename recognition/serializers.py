"""The JSON of the recognition endpoints: one definition per shape, used to render the answers
and to document them in the OpenAPI schema."""

from __future__ import annotations

from rest_framework import serializers

from images.serializers import BoxSerializer, FaceSerializer


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


class ExampleCreatedSerializer(SubjectNameSerializer):
    face_id = serializers.UUIDField()


class ExampleSerializer(serializers.Serializer):
    """A subject's face (``Face`` with its subject)."""

    face_id = serializers.UUIDField(source="id")
    subject = serializers.CharField(source="subject.name", allow_null=True)
    image_id = serializers.UUIDField()
    model = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, face) -> dict:
        out = super().to_representation(face)
        out["model"] = out["model"] or None
        return out


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
    """A face with its ``predictions`` (set on the Face by recognition.predictions)."""

    face_id = serializers.UUIDField(source="id", required=False, help_text="Only in a job's `recognition`.")
    subjects = PredictionSerializer(source="predictions", many=True)

    def to_representation(self, face) -> dict:
        out = super().to_representation(face)
        if not self.context.get("face_ids", True):
            del out["face_id"]
        return out


class RecognitionSerializer(serializers.Serializer):
    model = serializers.CharField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True)
    det_prob_threshold = serializers.FloatField()
    prediction_count = serializers.IntegerField()
    faces = RecognizedFaceSerializer(many=True)


class DetectedFaceSerializer(FaceSerializer):
    """A face without its id (probes are deleted once answered)."""

    def to_representation(self, face) -> dict:
        out = super().to_representation(face)
        del out["face_id"]
        return out


class DetectionSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    det_prob_threshold = serializers.FloatField()
    face_count = serializers.IntegerField()
    faces = DetectedFaceSerializer(many=True)


class VerifiedFaceSerializer(DetectedFaceSerializer):
    """A target face with ``similarity``, ``distance`` and ``verified`` set on it."""

    similarity = serializers.FloatField()
    distance = serializers.FloatField()
    verified = serializers.BooleanField()


class VerificationSerializer(serializers.Serializer):
    source_face = DetectedFaceSerializer()
    faces = VerifiedFaceSerializer(many=True)
    model = serializers.CharField()
    threshold = serializers.FloatField()
    det_prob_threshold = serializers.FloatField()


class ExampleRefSerializer(serializers.Serializer):
    face_id = serializers.UUIDField()
    subject = serializers.CharField(allow_null=True)


class ExampleVerificationSerializer(serializers.Serializer):
    """Every face of a photo compared with one stored example."""

    example = ExampleRefSerializer()
    faces = VerifiedFaceSerializer(many=True)
    model = serializers.CharField()
    threshold = serializers.FloatField()
    det_prob_threshold = serializers.FloatField()


class MatchSerializer(serializers.Serializer):
    """A ``Match``, shown as the other face."""

    face_id = serializers.UUIDField(source="other_face.id")
    image_id = serializers.UUIDField(source="other_face.image_id")
    box = BoxSerializer(source="other_face")
    distance = serializers.FloatField()
    similarity = serializers.FloatField()

    def to_representation(self, match) -> dict:
        out = super().to_representation(match)
        out["distance"] = round(out["distance"], 5)
        out["similarity"] = round(out["similarity"], 5)
        return out


class FaceMatchesSerializer(serializers.Serializer):
    """A face with ``ordered_matches`` (nearest first) set on it."""

    face_id = serializers.UUIDField(source="id")
    box = BoxSerializer(source="*")
    matches = MatchSerializer(source="ordered_matches", many=True)


class ImageMatchesSerializer(serializers.Serializer):
    image_id = serializers.UUIDField(source="id")
    status = serializers.CharField()
    faces = FaceMatchesSerializer(many=True)


class ClusterSerializer(serializers.Serializer):
    """A ``Cluster`` with ``face_ids`` set on it."""

    cluster_id = serializers.IntegerField(source="id")
    face_count = serializers.SerializerMethodField()
    face_ids = serializers.ListField(child=serializers.UUIDField())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_face_count(self, cluster) -> int:
        return len(cluster.face_ids)


class ClusterListSerializer(serializers.Serializer):
    clusters = ClusterSerializer(many=True)


class AssignedSerializer(SubjectNameSerializer):
    face_ids = serializers.ListField(child=serializers.UUIDField())
