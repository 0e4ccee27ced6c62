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


class ClearedRejectionsMixin(serializers.Serializer):
    cleared_rejections = serializers.IntegerField(
        help_text="Rejected matches overruled by this action (both faces now in one subject or cluster), deleted."
    )


class RenamedSerializer(SubjectNameSerializer, ClearedRejectionsMixin):
    merged = serializers.BooleanField(help_text="True when the new name existed and the two were merged.")


class SubjectDeletedSerializer(SubjectNameSerializer):
    deleted_faces = serializers.IntegerField(
        help_text="Faces of the example photos uploaded for this subject, deleted with the photos."
    )
    unassigned_faces = serializers.IntegerField(
        help_text="Faces of uploaded images that were assigned to it: kept, unnamed again, clustered again."
    )


class DeletedCountSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()


class QualitySummarySerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="0..1 (facecore.quality): size, sharpness, pose, exposure.")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="e.g. small_face, blurred.")


class ExampleCreatedSerializer(SubjectNameSerializer):
    face_id = serializers.UUIDField()
    quality = QualitySummarySerializer(allow_null=True, required=False)


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


VERDICT_HELP = (
    "`match`, `no_match` or `uncertain` (the quality-aware rule: read this, not similarity >= 0.5)."
)
REASON_HELP = (
    "Why uncertain: `low_quality` (a face below the quality floor), `ambiguous_distance` (in the band "
    "between the edges) or `ambiguous_subject` (recognize: another subject is nearly as near)."
)


class PredictionSerializer(serializers.Serializer):
    subject = serializers.CharField()
    similarity = serializers.FloatField(help_text="0..1; 0.5 at the model's threshold.")
    distance = serializers.FloatField(help_text="L2 distance between the unit embeddings.")
    verdict = serializers.CharField(help_text=VERDICT_HELP)
    reason = serializers.CharField(allow_null=True, help_text=REASON_HELP)


class RecognizedSerializer(serializers.Serializer):
    subject = serializers.CharField(
        allow_null=True, help_text="The subject recognized (verdict match), or null."
    )
    unknown = serializers.BooleanField(help_text="No subject is a match: a stranger, or too poor to tell.")
    verdict = serializers.CharField(help_text=VERDICT_HELP)
    reason = serializers.CharField(allow_null=True, help_text=REASON_HELP)


class RecognizedFaceSerializer(FaceSerializer):
    """A face with its ``predictions`` (set on the Face by recognition.predictions)."""

    face_id = serializers.UUIDField(source="id", required=False, help_text="Only in a job's `recognition`.")
    subjects = PredictionSerializer(
        source="predictions", many=True, help_text="The nearest subjects (candidates)."
    )

    def to_representation(self, face) -> dict:
        out = super().to_representation(face)
        if not self.context.get("face_ids", True):
            del out["face_id"]
        out.update(RecognizedSerializer(face.recognized).data)
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
    """A target face with ``similarity``, ``distance``, ``verdict``, ``reason`` and ``verified`` set on it."""

    similarity = serializers.FloatField()
    distance = serializers.FloatField()
    verdict = serializers.CharField(help_text=VERDICT_HELP)
    reason = serializers.CharField(allow_null=True, help_text=REASON_HELP)
    verified = serializers.BooleanField(help_text="verdict is `match`.")


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

    match_id = serializers.IntegerField(source="id", help_text="For /matches/{match_id}/confirm|reject.")
    face_id = serializers.UUIDField(source="other_face.id")
    image_id = serializers.UUIDField(source="other_face.image_id")
    box = BoxSerializer(source="other_face")
    distance = serializers.FloatField()
    similarity = serializers.FloatField()
    verdict = serializers.CharField(help_text="`match`, or `uncertain` (for a reviewer to decide).")

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


class AssignedSerializer(SubjectNameSerializer, ClearedRejectionsMixin):
    """A review.Assigned: faces that are now examples of ``subject``."""

    subject = serializers.CharField(source="subject.name")
    face_ids = serializers.ListField(child=serializers.UUIDField())


class MatchConfirmedSerializer(AssignedSerializer):
    match_id = serializers.IntegerField()


class MatchRejectedSerializer(serializers.Serializer):
    """A review.Rejected."""

    match_id = serializers.IntegerField()
    face_ids = serializers.ListField(child=serializers.UUIDField(), help_text="The pair marked different.")
    moved_face_id = serializers.UUIDField(
        allow_null=True, help_text="The face that left the cluster both were in (null when they were not)."
    )
    moved_to_cluster = serializers.IntegerField(allow_null=True, help_text="Where it was clustered again.")


class FaceAssignmentSerializer(ClearedRejectionsMixin):
    face_id = serializers.UUIDField()
    subject = serializers.CharField(allow_null=True)
    cluster_id = serializers.IntegerField(allow_null=True)


class ClusterChangedSerializer(ClearedRejectionsMixin):
    cluster = ClusterSerializer()
    new_cluster = ClusterSerializer(required=False, help_text="Only after a split: the faces split out.")


class ReviewFaceRefSerializer(serializers.Serializer):
    """One face of a match pair, as a reviewer sees it."""

    face_id = serializers.UUIDField(source="id")
    image_id = serializers.UUIDField()
    subject = serializers.CharField(source="subject.name", allow_null=True, default=None)
    cluster_id = serializers.IntegerField(allow_null=True)


class MatchPairSerializer(serializers.Serializer):
    """A ``Match`` (one row per pair) with both faces."""

    match_id = serializers.IntegerField(source="id")
    similarity = serializers.FloatField()
    distance = serializers.FloatField()
    confirmed = serializers.BooleanField(help_text="Both faces are examples of one subject.")
    faces = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_faces(self, match) -> list[dict]:
        return ReviewFaceRefSerializer([match.face, match.other_face], many=True).data

    def to_representation(self, match) -> dict:
        out = super().to_representation(match)
        out["distance"] = round(out["distance"], 5)
        out["similarity"] = round(out["similarity"], 5)
        return out


class MatchPageSerializer(serializers.Serializer):
    matches = MatchPairSerializer(many=True)
    page = serializers.IntegerField()
    size = serializers.IntegerField()
    total_elements = serializers.IntegerField(help_text="Counted up to 10,000 (see total_is_exact).")
    total_pages = serializers.IntegerField()
    total_is_exact = serializers.BooleanField(
        help_text="False when there are 10,000 or more: total_elements is then 10,000, and later pages still work."
    )


class FaceReviewSerializer(serializers.Serializer):
    """GET /faces/{id}: a face with what recognition knows about it (set on the Face by the view:
    ``ordered_matches``, ``predictions``, ``rejected_face_ids``)."""

    face_id = serializers.UUIDField(source="id")
    image_id = serializers.UUIDField()
    purpose = serializers.CharField(source="image.purpose", help_text="`job` or `example`.")
    box = BoxSerializer(source="*")
    probability = serializers.FloatField()
    model = serializers.CharField(allow_null=True)
    subject = serializers.CharField(source="subject.name", allow_null=True, default=None)
    cluster_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    matches = MatchSerializer(source="ordered_matches", many=True, help_text="Nearest first.")
    suggestions = PredictionSerializer(
        source="predictions", many=True, help_text="Most similar subjects (none marked different from it)."
    )
    rejected_face_ids = serializers.ListField(
        child=serializers.UUIDField(), help_text="Faces a reviewer marked as different people."
    )


class ImportItemSerializer(serializers.Serializer):
    """One file of a bulk import and what became of it."""

    file = serializers.CharField(help_text="The file's name (its path inside the archive).")
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "enrolled", "skipped", "refused"])
    code = serializers.CharField(
        help_text="Why it was refused (no_face, more_than_one_face, low_quality_face, not_an_image, "
        "unsupported_format, image_too_large, invalid_subject...) or skipped (already_enrolled, duplicate); "
        "empty otherwise."
    )
    message = serializers.CharField()
    face_id = serializers.UUIDField(allow_null=True, help_text="The example face (enrolled or skipped).")


class ImportStatusSerializer(serializers.Serializer):
    """A bulk import's progress (GET /api/v1/imports/{id})."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["running", "done"], help_text="done: every file is settled.")
    total = serializers.IntegerField()
    done = serializers.IntegerField(help_text="enrolled + skipped + refused.")
    pending = serializers.IntegerField(help_text="Still being processed by the worker pool.")
    enrolled = serializers.IntegerField()
    skipped = serializers.IntegerField(
        help_text="Already enrolled for that subject (an earlier import), or duplicates."
    )
    refused = serializers.IntegerField()
    refused_by_code = serializers.DictField(child=serializers.IntegerField(), help_text="code -> files.")
    force = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    items = ImportItemSerializer(many=True)
