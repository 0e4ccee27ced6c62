"""Who the faces are: subjects (named people), clusters (suggested people), matches, and the
reviewers' rejections of matches."""

from __future__ import annotations

import uuid

from django.db import models

from images.models import Face
from tenants.models import Application


class Subject(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="subjects")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "name"], name="subject_unique_name")]

    def __str__(self) -> str:
        return self.name


class Cluster(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="clusters")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class Match(models.Model):
    """``face`` and ``other_face`` (of another job image) are within the model's threshold, and
    the quality-aware rule calls them a ``match`` or ``uncertain`` (``verdict``; for reviewers)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="matches")
    face = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="matches")
    other_face = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="+")
    distance = models.FloatField()
    similarity = models.FloatField()
    verdict = models.CharField(max_length=16, default="match")
    """``match`` or ``uncertain`` (recognition.decisions); only matches cluster faces together."""
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "matches"
        constraints = [models.UniqueConstraint(fields=["face", "other_face"], name="match_unique_pair")]
        indexes = [
            # One row per pair (the review pages' and GET /matches' rows), by similarity.
            models.Index(
                fields=["similarity"],
                name="match_pair_similarity_idx",
                condition=models.Q(face_id__lt=models.F("other_face_id")),
            ),
        ]


class Rejection(models.Model):
    """A reviewer said ``face_a`` and ``face_b`` are different people (a rejected match).

    One row per pair, stored with ``face_a < face_b``. Every recognition path respects it
    (recognition.rejections): the two faces are never matched or clustered together again, and
    the subject of one is never proposed for the other.
    """

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="rejections")
    face_a = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="+")
    face_b = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=200, blank=True, help_text="Who rejected it: admin:<user> or api.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "rejected match"
        constraints = [
            models.UniqueConstraint(fields=["face_a", "face_b"], name="rejection_unique_pair"),
            models.CheckConstraint(
                condition=models.Q(face_a__lt=models.F("face_b")), name="rejection_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.face_a_id} is not {self.face_b_id}"


class ImportJob(models.Model):
    """A bulk enrolment: many example photos, one subject each (recognition.bulk). Its progress
    is counted from its items; each item is finished by the worker that processed its photo."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="imports")
    source = models.CharField(max_length=16, help_text="api or command")
    force = models.BooleanField(default=False)
    """Enrol faces below the quality floor too (as ``force=true`` on one example)."""
    det_prob_threshold = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class ImportStatus(models.TextChoices):
    PENDING = "pending"
    """Submitted to the worker pool, not finished yet."""
    ENROLLED = "enrolled"
    SKIPPED = "skipped"
    """Already enrolled (the same photo for the same subject), or a duplicate within the import."""
    REFUSED = "refused"
    """Not an example: ``code`` says why (no_face, more_than_one_face, low_quality_face, not_an_image...)."""


class ImportItem(models.Model):
    """One file of an import and what became of it."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="items")
    subject = models.CharField(max_length=200)
    file = models.CharField(max_length=1000)
    sha256 = models.CharField(max_length=64, blank=True)
    image_id = models.UUIDField(null=True, blank=True)
    """The example image processing it (no foreign key: a refused image is deleted)."""
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    face_id = models.UUIDField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "status"], name="import_item_job_status_idx")]
