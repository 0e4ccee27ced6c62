"""Face.subject and Face.cluster (recognition's columns on the face table; state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("images", "0001_initial"), ("recognition", "0004_models")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AddField(
                    model_name="face",
                    name="subject",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="faces",
                        to="recognition.subject",
                    ),
                ),
                migrations.AddField(
                    model_name="face",
                    name="cluster",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="faces",
                        to="recognition.cluster",
                    ),
                ),
            ],
        )
    ]
