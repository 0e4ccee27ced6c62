"""Which model embeds faces: the active model, and the pipeline's hook during a model migration.

The active model is stored in the database (the newest switched or finalized
``ModelMigration``); FACECORE_DEFAULT_MODEL only names it until a migration has switched.
Recognition needs no lookup of its own: a search uses the model of the probe's face, which the
pipeline embedded with the active model.

While a migration is open, every new face is embedded with both models: the active one in
``Face.embedding`` (what the service answers with) and the migration's other model in
``FaceEmbedding`` (the target's vector before the switch, the source's after it, for a
rollback). The switch and a rollback take the same advisory lock exclusively that
``store_faces`` takes shared, so a job's faces are stored wholly before or wholly after them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.db import connection

from facecore.decode import DecodedImage
from facecore.detect import face_in_pixels
from facecore.engine import get_engine
from facecore.types import Face as EngineFace
from images.models import Face, FaceEmbedding, MigrationState, ModelMigration

LOCK_KEY = "facecore-active-model"
OPEN_STATES = (MigrationState.RUNNING, MigrationState.FAILED, MigrationState.SWITCHED)


def active_model() -> str:
    """The model new faces are embedded with (and so the one recognition searches)."""
    switched = (
        ModelMigration.objects.filter(state__in=[MigrationState.SWITCHED, MigrationState.FINALIZED])
        .order_by("-switched_at")
        .values_list("target", flat=True)
        .first()
    )
    return switched or settings.FACECORE_ENGINE.default_model


def open_migration() -> ModelMigration | None:
    return ModelMigration.objects.filter(state__in=OPEN_STATES).first()


def other_model(migration: ModelMigration | None) -> str | None:
    """The model an open migration needs besides the active one (None: no migration open)."""
    if migration is None:
        return None
    return migration.source if migration.state == MigrationState.SWITCHED else migration.target


def lock(shared: bool) -> None:
    """Hold the active-model lock until the current transaction ends."""
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {fn}(hashtext(%s))", [LOCK_KEY])


def embed(decoded: DecodedImage, faces: Sequence[EngineFace], model: str) -> list[np.ndarray]:
    """``faces`` (original coordinates) of ``decoded`` embedded with ``model``."""
    if not faces:
        return []
    embedder = get_engine().embedder(model)
    crops = [embedder.prepare(decoded.pixels, face_in_pixels(face, decoded)) for face in faces]
    return [np.asarray(v, dtype=np.float32) for v in embedder.embed(np.stack(crops))]


def store_faces(rows: list[Face], faces: Sequence[EngineFace], decoded: DecodedImage) -> list[Face]:
    """The pipeline's ``bulk_create`` of a job's faces, with the embeddings the models need.

    Call inside the job's transaction. ``rows`` were embedded (``faces[i].model``) with the
    model active when the job started; if a switch or rollback happened since, they are embedded
    again with the active one here.
    """
    if not rows:
        return []
    lock(shared=True)
    active = active_model()
    extra = other_model(open_migration())
    stale = [(row, face) for row, face in zip(rows, faces, strict=True) if row.model and row.model != active]
    vectors = embed(decoded, [face for _, face in stale], active)
    for (row, _), vector in zip(stale, vectors, strict=True):
        row.embedding, row.model = vector, active
    created = Face.objects.bulk_create(rows)
    if extra is not None and extra != active:
        embedded = [(row, face) for row, face in zip(created, faces, strict=True) if row.model]
        vectors = embed(decoded, [face for _, face in embedded], extra)
        FaceEmbedding.objects.bulk_create(
            [
                FaceEmbedding(face=row, model=extra, embedding=vector)
                for (row, _), vector in zip(embedded, vectors, strict=True)
            ]
        )
    return created
