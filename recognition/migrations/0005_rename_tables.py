"""The tables take this app's names (a rename: rows, indexes and constraints stay).

The HNSW and btree indexes of 0001-0003 follow the face table to ``images_face``."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("recognition", "0004_models"), ("api", "0003_models_moved")]

    operations = [
        migrations.AlterModelTable(name="subject", table=None),
        migrations.AlterModelTable(name="cluster", table=None),
        migrations.AlterModelTable(name="match", table=None),
    ]
