"""One HNSW (cosine) index per embedding model on api_face, as a partial expression index.

The embedding column has no fixed dimension (models of different sizes share it), so each
index casts to the model's dimension and is restricted to that model's rows. Queries must use
the same expression and predicate (recognition.search) for the planner to pick the index.
(0002 adds a second, smaller index per model for subjects' faces.)
"""

from django.db import migrations

# name -> dimension; frozen here on purpose (a migration must not change when code does).
MODELS = {"facenet": 128, "dlib": 128, "facenet512": 512}


def create(name: str, dim: int) -> str:
    return (
        f"CREATE INDEX IF NOT EXISTS face_embedding_{name}_hnsw ON api_face "
        f"USING hnsw ((embedding::vector({dim})) vector_cosine_ops) "
        f"WITH (m = 16, ef_construction = 64) WHERE model = '{name}'"
    )


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [
        migrations.RunSQL(create(name, dim), f"DROP INDEX IF EXISTS face_embedding_{name}_hnsw")
        for name, dim in MODELS.items()
    ]
