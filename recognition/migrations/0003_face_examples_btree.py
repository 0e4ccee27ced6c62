"""A small btree index of subjects' faces per application and model.

When the subjects' HNSW index returns fewer rows than asked (an application with few
examples), recognition.search repeats the query as an exact scan; this index keeps that scan
to the application's examples instead of all its faces.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("recognition", "0002_face_embedding_subjects_hnsw")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS face_examples_app_model ON api_face (application_id, model) "
            "WHERE subject_id IS NOT NULL",
            "DROP INDEX IF EXISTS face_examples_app_model",
        )
    ]
