"""Upgrading a database made before the apps owned their models (everything in ``api``):
migrate keeps every row, renames the tables, keeps the vector indexes and moves the content
types (admin permissions) to the new apps."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD_SCHEMA = [
    ("api", "0002_image_deliveries"),
    ("recognition", "0003_face_examples_btree"),
    ("tenants", None),
    ("images", None),
]


def migrate(targets):
    """Migrate the test database to ``targets``; the historical models at that point."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_rows_of_the_old_schema_survive_the_move_to_the_apps():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = migrate(OLD_SCHEMA)
    try:
        Application = old.get_model("api", "Application")
        app = Application.objects.create(name="from-before")
        old.get_model("api", "ApiKey").objects.create(application=app, prefix="fc_x", key_hash="h" * 64)
        image = old.get_model("api", "Image").objects.create(application=app, status="done", request_id="r1")
        subject = old.get_model("api", "Subject").objects.create(application=app, name="alice")
        Face = old.get_model("api", "Face")
        faces = [
            Face.objects.create(
                application=app, image=image, x_min=0, y_min=0, x_max=9, y_max=9, probability=0.9,
                embedding=[0.0] * 127 + [1.0], model="facenet", subject=subject if n == 0 else None,
            )
            for n in range(2)
        ]  # fmt: skip
        old.get_model("api", "Match").objects.create(
            application=app, face=faces[0], other_face=faces[1], distance=0.1, similarity=0.9
        )
        old.get_model("api", "WebhookAttempt").objects.create(image=image, number=1, status_code=200)
    finally:
        migrate(latest)

    from images.models import Face as NewFace
    from images.models import Image, WebhookAttempt
    from recognition.models import Match, Subject
    from tenants.models import ApiKey, Application

    app = Application.objects.get(name="from-before")
    assert ApiKey.objects.get(application=app).key_hash == "h" * 64
    assert Image.objects.get(application=app).request_id == "r1"
    assert NewFace.objects.filter(application=app, subject__name="alice").count() == 1
    assert Subject.objects.get(application=app).faces.count() == 1
    assert Match.objects.filter(application=app).count() == 1
    assert WebhookAttempt.objects.filter(image__application=app).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'images_face'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert {"face_embedding_facenet_hnsw", "face_embedding_facenet_subjects_hnsw"} <= indexes
