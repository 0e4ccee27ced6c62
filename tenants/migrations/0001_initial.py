"""Applications and API keys, moved here from the ``api`` app (state only: the tables exist)."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

import tenants.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("api", "0002_image_deliveries")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Application",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("name", models.CharField(max_length=200, unique=True)),
                        (
                            "webhook_secret",
                            models.CharField(default=tenants.models.new_webhook_secret, max_length=128),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"db_table": "api_application"},
                ),
                migrations.CreateModel(
                    name="ApiKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(blank=True, max_length=200)),
                        ("prefix", models.CharField(db_index=True, editable=False, max_length=8)),
                        ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        ("revoked", models.BooleanField(default=False)),
                        (
                            "application",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="api_keys",
                                to="tenants.application",
                            ),
                        ),
                    ],
                    options={"verbose_name": "API key", "db_table": "api_apikey"},
                ),
            ],
        )
    ]
