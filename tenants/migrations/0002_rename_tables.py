"""The tables take this app's names (a rename: rows, indexes and constraints stay)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial"), ("api", "0003_models_moved")]

    operations = [
        migrations.AlterModelTable(name="application", table=None),
        migrations.AlterModelTable(name="apikey", table=None),
    ]
