"""The facecore schema: applications and keys, images (jobs), faces with embeddings, recognition."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from pgvector.django import VectorField

from facecore.types import Box
from facecore.types import Face as EngineFace


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class Application(models.Model):
    """A tenant. API keys, images, faces and subjects all belong to one application."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    webhook_secret = models.CharField(max_length=128, default=new_webhook_secret)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """Only the SHA-256 of a key is stored; ``prefix`` (its first 8 characters) identifies it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=8, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.application.name})"


class ImageStatus(models.TextChoices):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class ImagePurpose(models.TextChoices):
    JOB = "job"
    """Uploaded through POST /api/v1/images."""
    EXAMPLE = "example"
    """A subject's example photo (recognition)."""
    PROBE = "probe"
    """A photo sent to recognize/verify (recognition)."""


class Image(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="images")
    request_id = models.CharField(max_length=200, null=True, blank=True)
    purpose = models.CharField(max_length=16, choices=ImagePurpose.choices, default=ImagePurpose.JOB)
    status = models.CharField(
        max_length=16, choices=ImageStatus.choices, default=ImageStatus.QUEUED, db_index=True
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    object_key = models.CharField(max_length=300, blank=True)
    format = models.CharField(max_length=16, blank=True)
    content_type = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    width = models.IntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)
    callback_url = models.URLField(max_length=2000, blank=True)
    options = models.JSONField(default=dict, blank=True)
    """det_prob_threshold, limit, model, recognize."""
    timings = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    """Recognition results (filled by the recognition feature)."""
    deliveries = models.PositiveIntegerField(default=0)
    """How many times a worker started this image's job (redeliveries after a crash count)."""
    original_deleted = models.BooleanField(default=False)
    annotated_key = models.CharField(max_length=300, blank=True)
    """A stored annotated preview, kept when the original is deleted after processing."""
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "request_id"], name="image_unique_request_id"),
        ]
        indexes = [models.Index(fields=["application", "status"])]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImageStatus.DONE, ImageStatus.FAILED)

    def stored_object_keys(self) -> list[str]:
        """Every object this image may have in the store: original, preview, its faces' crops."""
        from api.storage import crop_key

        keys = [key for key in (self.object_key, self.annotated_key) if key]
        return keys + [crop_key(face_id) for face_id in self.faces.values_list("id", flat=True)]


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


class Face(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="faces")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="faces")
    x_min = models.IntegerField()
    y_min = models.IntegerField()
    x_max = models.IntegerField()
    y_max = models.IntegerField()
    probability = models.FloatField()
    landmarks = models.JSONField(default=dict)
    embedding = VectorField(null=True, blank=True)
    """No fixed dimension, so models of different sizes share the column (index per model)."""
    model = models.CharField(max_length=64, blank=True)
    subject = models.ForeignKey(
        Subject, null=True, blank=True, on_delete=models.SET_NULL, related_name="faces"
    )
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="faces"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Largest faces first, as the engine returns them.
        ordering = [
            ((models.F("x_max") - models.F("x_min")) * (models.F("y_max") - models.F("y_min"))).desc()
        ]
        indexes = [models.Index(fields=["application", "model"])]

    def __str__(self) -> str:
        return str(self.id)

    def box(self) -> dict[str, int]:
        return {"x_min": self.x_min, "y_min": self.y_min, "x_max": self.x_max, "y_max": self.y_max}

    def as_engine_face(self) -> EngineFace:
        """The engine's view of this stored face (for drawing and cropping)."""
        return EngineFace(
            box=Box(self.x_min, self.y_min, self.x_max, self.y_max),
            probability=self.probability,
            landmarks={name: (float(p[0]), float(p[1])) for name, p in (self.landmarks or {}).items()},
            model=self.model or None,
        )


class Match(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="matches")
    face = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="matches")
    other_face = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="+")
    distance = models.FloatField()
    similarity = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "matches"
        constraints = [models.UniqueConstraint(fields=["face", "other_face"], name="match_unique_pair")]


class WebhookAttempt(models.Model):
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="webhook_attempts")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField(default=0)

    class Meta:
        ordering = ["image", "number"]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
