"""Rebuild the HNSW indexes of 0001 and 0002 with ef_construction = 128 (was 64).

Measured at 1,000,000 faces x 128-d in one application (docs/benchmarks.md "Vector search
experiments"): with ef_construction 64 recall@10 was 0.91 at ef_search 100 and needed about 600
for 0.98 (p95 over 30 ms); built with 128 it is 0.999 at ef_search 100 (p95 8.5 ms). The build
takes about 1.65 times as long (586 s instead of 354 s for 1M faces on 2 shared cores), once.
Upgrading rebuilds the six indexes: minutes on a big table.
"""

from django.db import migrations

# name -> dimension; frozen here on purpose (a migration must not change when code does).
MODELS = {"facenet": 128, "dlib": 128, "facenet512": 512}
TABLE = "images_face"  # api_face until recognition 0005


def create(name: str, dim: int, *, subjects: bool = False, ef_construction: int = 128) -> str:
    suffix = "_subjects" if subjects else ""
    where = f"model = '{name}'" + (" AND subject_id IS NOT NULL" if subjects else "")
    return (
        f"CREATE INDEX IF NOT EXISTS face_embedding_{name}{suffix}_hnsw ON {TABLE} "
        f"USING hnsw ((embedding::vector({dim})) vector_cosine_ops) "
        f"WITH (m = 16, ef_construction = {ef_construction}) WHERE {where}"
    )


def rebuild(ef_construction: int) -> list[str]:
    statements = []
    for name, dim in MODELS.items():
        for subjects in (False, True):
            suffix = "_subjects" if subjects else ""
            statements.append(f"DROP INDEX IF EXISTS face_embedding_{name}{suffix}_hnsw")
            statements.append(create(name, dim, subjects=subjects, ef_construction=ef_construction))
    return statements


class Migration(migrations.Migration):
    dependencies = [("recognition", "0009_import_jobs")]

    operations = [migrations.RunSQL(rebuild(128), rebuild(64))]
