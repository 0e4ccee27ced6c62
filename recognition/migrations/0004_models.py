"""Subjects, clusters and matches, moved here from the ``api`` app (state only: the tables exist)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0003_face_examples_btree"),
        ("images", "0001_initial"),
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Subject",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "application",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="subjects",
                                to="tenants.application",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "api_subject",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("application", "name"), name="subject_unique_name"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Cluster",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "application",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="clusters",
                                to="tenants.application",
                            ),
                        ),
                    ],
                    options={"db_table": "api_cluster"},
                ),
                migrations.CreateModel(
                    name="Match",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("distance", models.FloatField()),
                        ("similarity", models.FloatField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "application",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="matches",
                                to="tenants.application",
                            ),
                        ),
                        (
                            "face",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="matches",
                                to="images.face",
                            ),
                        ),
                        (
                            "other_face",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="images.face",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "matches",
                        "db_table": "api_match",
                        "constraints": [
                            models.UniqueConstraint(fields=("face", "other_face"), name="match_unique_pair")
                        ],
                    },
                ),
            ],
        )
    ]
