"""Images, faces and webhook attempts, moved here from the ``api`` app (state only: the tables
exist). Face's subject and cluster come in 0002, after recognition's models."""

import uuid

import django.db.models.deletion
import django.db.models.expressions
import pgvector.django.vector
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("api", "0002_image_deliveries"), ("tenants", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Image",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("request_id", models.CharField(blank=True, max_length=200, null=True)),
                        (
                            "purpose",
                            models.CharField(
                                choices=[("job", "Job"), ("example", "Example"), ("probe", "Probe")],
                                default="job",
                                max_length=16,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("queued", "Queued"),
                                    ("processing", "Processing"),
                                    ("done", "Done"),
                                    ("failed", "Failed"),
                                ],
                                db_index=True,
                                default="queued",
                                max_length=16,
                            ),
                        ),
                        ("error_code", models.CharField(blank=True, max_length=64)),
                        ("error_message", models.TextField(blank=True)),
                        ("object_key", models.CharField(blank=True, max_length=300)),
                        ("format", models.CharField(blank=True, max_length=16)),
                        ("content_type", models.CharField(blank=True, max_length=64)),
                        ("size_bytes", models.BigIntegerField(default=0)),
                        ("width", models.IntegerField(blank=True, null=True)),
                        ("height", models.IntegerField(blank=True, null=True)),
                        ("callback_url", models.URLField(blank=True, max_length=2000)),
                        ("options", models.JSONField(blank=True, default=dict)),
                        ("timings", models.JSONField(blank=True, default=dict)),
                        ("result", models.JSONField(blank=True, default=dict)),
                        ("deliveries", models.PositiveIntegerField(default=0)),
                        ("original_deleted", models.BooleanField(default=False)),
                        ("annotated_key", models.CharField(blank=True, max_length=300)),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "application",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="images",
                                to="tenants.application",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                        "db_table": "api_image",
                        "indexes": [
                            models.Index(
                                fields=["application", "status"], name="api_image_applica_192947_idx"
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("application", "request_id"), name="image_unique_request_id"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Face",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("x_min", models.IntegerField()),
                        ("y_min", models.IntegerField()),
                        ("x_max", models.IntegerField()),
                        ("y_max", models.IntegerField()),
                        ("probability", models.FloatField()),
                        ("landmarks", models.JSONField(default=dict)),
                        ("embedding", pgvector.django.vector.VectorField(blank=True, null=True)),
                        ("model", models.CharField(blank=True, max_length=64)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "application",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="faces",
                                to="tenants.application",
                            ),
                        ),
                        (
                            "image",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="faces",
                                to="images.image",
                            ),
                        ),
                    ],
                    options={
                        "ordering": [
                            models.OrderBy(
                                django.db.models.expressions.CombinedExpression(
                                    django.db.models.expressions.CombinedExpression(
                                        models.F("x_max"), "-", models.F("x_min")
                                    ),
                                    "*",
                                    django.db.models.expressions.CombinedExpression(
                                        models.F("y_max"), "-", models.F("y_min")
                                    ),
                                ),
                                descending=True,
                            )
                        ],
                        "db_table": "api_face",
                        "indexes": [
                            models.Index(fields=["application", "model"], name="api_face_applica_fb1929_idx")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="WebhookAttempt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("number", models.PositiveIntegerField()),
                        ("attempted_at", models.DateTimeField(auto_now_add=True)),
                        ("status_code", models.IntegerField(blank=True, null=True)),
                        ("error", models.TextField(blank=True)),
                        ("duration_ms", models.FloatField(default=0)),
                        (
                            "image",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="webhook_attempts",
                                to="images.image",
                            ),
                        ),
                    ],
                    options={"ordering": ["image", "number"], "db_table": "api_webhookattempt"},
                ),
            ],
        )
    ]
