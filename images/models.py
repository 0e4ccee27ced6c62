"""Images (one job each), the faces found in them, and webhook attempts."""

from __future__ import annotations

import uuid

from django.db import models
from pgvector.django import VectorField

from facecore.types import Box
from facecore.types import Face as EngineFace
from infra.storage import crop_key
from tenants.models import Application


class ImageStatus(models.TextChoices):
    QUEUED = "queued"
    PROCESSING = "processing"
    RETRYING = "retrying"
    """A transient fault (object store, database) stopped the job; it runs again at next_attempt_at."""
    DONE = "done"
    FAILED = "failed"


class ImagePurpose(models.TextChoices):
    JOB = "job"
    """Uploaded through POST /api/v1/images."""
    EXAMPLE = "example"
    """A subject's example photo (recognition)."""
    PROBE = "probe"
    """A photo sent to recognize/verify/detect; deleted once answered."""


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
    """Job options: det_prob_threshold, limit, recognize, prediction_count."""
    timings = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    """Results other apps attach when the faces are stored (``recognition``)."""
    deliveries = models.PositiveIntegerField(default=0)
    """How many times a worker started this image's job (redeliveries after a crash count)."""
    enqueued_at = models.DateTimeField(null=True, blank=True)
    """When the last job message was sent (the reconciler re-sends lost ones)."""
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    """While processing: the worker renews this; past it, the job is taken to be lost."""
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    """While retrying: when the next attempt is due."""
    last_error = models.JSONField(null=True, blank=True)
    """While retrying: ``{"code", "message"}`` of the fault that stopped the last attempt."""
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
        indexes = [
            models.Index(fields=["application", "status"], name="api_image_applica_192947_idx"),
            models.Index(
                fields=["status", "enqueued_at"],
                name="image_unfinished_idx",
                condition=models.Q(status__in=["queued", "processing", "retrying"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImageStatus.DONE, ImageStatus.FAILED)

    def stored_object_keys(self) -> list[str]:
        """Every object this image may have in the store: original, preview, its faces' crops."""
        keys = [key for key in (self.object_key, self.annotated_key) if key]
        return keys + [crop_key(face_id) for face_id in self.faces.values_list("id", flat=True)]


class Face(models.Model):
    """One detected face with its embedding.

    ``subject`` and ``cluster`` belong to recognition (who this face is); they are columns of
    this table, referenced by name, so that pgvector's partial indexes can filter on them.
    """

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
    quality = models.JSONField(null=True, blank=True)
    """``facecore.quality.FaceQuality.to_dict()``, measured by the worker (null for older faces)."""
    subject = models.ForeignKey(
        "recognition.Subject", null=True, blank=True, on_delete=models.SET_NULL, related_name="faces"
    )
    cluster = models.ForeignKey(
        "recognition.Cluster", null=True, blank=True, on_delete=models.SET_NULL, related_name="faces"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Largest faces first, as the engine returns them.
        ordering = [
            ((models.F("x_max") - models.F("x_min")) * (models.F("y_max") - models.F("y_min"))).desc()
        ]
        indexes = [
            models.Index(fields=["application", "model"], name="api_face_applica_fb1929_idx"),
            # The review pages list the newest faces first, 50 at a time (recognition/admin).
            models.Index(fields=["created_at", "id"], name="face_created_idx"),
        ]

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


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    """Every attempt failed (FACECORE_WEBHOOK_MAX_ATTEMPTS)."""
    REFUSED = "refused"
    """The callback URL is refused by the private-address policy; never retried."""


class WebhookDelivery(models.Model):
    """The outbox row of one webhook: written in the transaction that finishes the image, so a
    lost message or a dead worker never loses it (the reconciler sends what is due)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    """The event id, sent as ``X-Facecore-Event-Id``: the same on every attempt (receivers dedupe on it)."""
    image = models.OneToOneField(Image, on_delete=models.CASCADE, related_name="delivery")
    event = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="delivery_pending_idx", condition=models.Q(status="pending")
            )
        ]


class WorkerHeartbeat(models.Model):
    """A live worker process group: written every few seconds by each worker (readyz reads it)."""

    hostname = models.CharField(max_length=255, unique=True)
    queues = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()


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


class MigrationState(models.TextChoices):
    RUNNING = "running"
    """Re-embedding in the background; the service answers with ``source``."""
    SWITCHED = "switched"
    """``target`` is the active model; the old embeddings are kept for a rollback."""
    FINALIZED = "finalized"
    """``target`` is the active model; the old embeddings are gone."""
    ROLLED_BACK = "rolled_back"
    """``source`` is the active model again (before or after the switch)."""
    FAILED = "failed"
    """Stopped by an error (``error``); the service answers with ``source``. Roll back or resume."""


class ModelMigration(models.Model):
    """A change of the embedding model of every stored face (images.migration; docs/models.md).

    The active model is the ``target`` of the newest switched or finalized migration
    (images.active_model), else FACECORE_DEFAULT_MODEL. At most one migration is open (running,
    failed or switched) at a time.
    """

    source = models.CharField(max_length=64)
    target = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=MigrationState.choices, default=MigrationState.RUNNING)
    total = models.PositiveIntegerField(default=0)
    """Faces to re-embed, counted at the start (faces arriving later are added as they come)."""
    error = models.TextField(blank=True)
    allow_partial = models.BooleanField(default=False)
    """Switch even if some faces could not be re-embedded (they keep the old model's vector and
    drop out of recognition); otherwise the migration stops ``failed`` before the switch."""
    started_at = models.DateTimeField(auto_now_add=True)
    switched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    """Finalized or rolled back."""
    from_crops = models.PositiveIntegerField(default=0)
    """Faces re-embedded from their stored crop (counted at the switch)."""
    seconds = models.FloatField(default=0)
    """Time spent re-embedding (the batches' own time, not the time waiting in the queue)."""

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # Every open migration indexes the same value (true): a second one is refused.
            models.UniqueConstraint(
                models.ExpressionWrapper(
                    models.Q(state__in=["running", "failed", "switched"]), output_field=models.BooleanField()
                ),
                condition=models.Q(state__in=["running", "failed", "switched"]),
                name="model_migration_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.state})"


class FaceEmbedding(models.Model):
    """An embedding of a face by a model other than the one in ``Face.embedding``.

    Written by a model migration: the new model's vectors while it runs (searches never read
    this table, so the service keeps answering with the old model), the old model's after the
    switch (so a rollback restores them). Finalizing deletes them.
    """

    face = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="other_embeddings")
    model = models.CharField(max_length=64)
    embedding = VectorField(null=True, blank=True)
    """Null: the face could not be re-embedded with ``model`` (``problem`` says why)."""
    problem = models.CharField(max_length=64, blank=True)
    """``original_deleted`` (no original and no usable crop), ``original_missing``, ``bad_box``."""
    from_crop = models.BooleanField(default=False)
    """Re-embedded from the stored face crop (the original was deleted for privacy)."""
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["face", "model"], name="face_embedding_unique_model")]
        indexes = [models.Index(fields=["model", "face"], name="face_embedding_model_idx")]
