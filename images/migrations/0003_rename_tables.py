"""The tables take this app's names (a rename: rows, indexes and constraints stay)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("images", "0002_face_subject_cluster"), ("api", "0003_models_moved")]

    operations = [
        migrations.AlterModelTable(name="image", table=None),
        migrations.AlterModelTable(name="face", table=None),
        migrations.AlterModelTable(name="webhookattempt", table=None),
    ]
