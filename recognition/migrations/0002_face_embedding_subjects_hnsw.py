"""A second HNSW index per model holding only subjects' faces (the examples recognize searches).

pgvector 0.6 filters HNSW results after the scan, so searching the few named faces through the
index of all faces can come back short; queries with ``subject_id IS NOT NULL`` (the
``subjects`` scope of recognition.search) match this index's predicate and scan only examples.
"""

from django.db import migrations

# name -> dimension; frozen here on purpose (a migration must not change when code does).
MODELS = {"facenet": 128, "dlib": 128, "facenet512": 512}


def create(name: str, dim: int) -> str:
    return (
        f"CREATE INDEX IF NOT EXISTS face_embedding_{name}_subjects_hnsw ON api_face "
        f"USING hnsw ((embedding::vector({dim})) vector_cosine_ops) "
        f"WITH (m = 16, ef_construction = 64) WHERE model = '{name}' AND subject_id IS NOT NULL"
    )


class Migration(migrations.Migration):
    dependencies = [("recognition", "0001_face_embedding_hnsw")]

    operations = [
        migrations.RunSQL(create(name, dim), f"DROP INDEX IF EXISTS face_embedding_{name}_subjects_hnsw")
        for name, dim in MODELS.items()
    ]
