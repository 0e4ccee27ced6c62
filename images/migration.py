"""Change the embedding model of every stored face: start, re-embed in batches, switch, roll back.

``start`` opens a ``ModelMigration`` and sends the first batch to the faces queue
(worker.tasks.migrate_embeddings). Each batch re-embeds up to FACECORE_MIGRATION_BATCH_SIZE faces
from their stored pixels (images.reembed) into ``FaceEmbedding`` rows, which no search reads:
the service keeps answering with the old model. New faces get both models meanwhile
(images.embedding_models.store_faces). When no face is left, ``switch`` swaps the vectors in
one transaction: the new ones go into ``Face.embedding``, the old ones into ``FaceEmbedding``,
and the active model becomes the target. ``rollback`` undoes that (or drops a running
migration's work); ``finalize`` deletes the old vectors. After a switch or a rollback the
``active_model_changed`` signal lets recognition recompute matches and clusters.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from facecore.embedders import MODEL_NAMES
from images.embedding_models import active_model, lock, open_migration
from images.models import Face, FaceEmbedding, MigrationState, ModelMigration
from images.reembed import reembed
from infra import dispatch


class MigrationError(Exception):
    """The request does not fit the migration's state (the message says why)."""


def _send(migration_id: int) -> None:
    dispatch.send(dispatch.MIGRATE_EMBEDDINGS, [migration_id], settings.FACECORE_FACES_QUEUE)


def _announce(model: str) -> None:
    dispatch.send(dispatch.ACTIVE_MODEL_CHANGED, [model], settings.FACECORE_FACES_QUEUE)


def remaining(migration: ModelMigration) -> QuerySet[Face]:
    """Faces still to re-embed: embedded by another model, without a target row yet."""
    done = FaceEmbedding.objects.filter(model=migration.target).values("face_id")
    return Face.objects.filter(embedding__isnull=False).exclude(model=migration.target).exclude(id__in=done)


def start(target: str, allow_partial: bool = False) -> ModelMigration:
    """Open a migration to ``target`` and send its first batch."""
    if target not in MODEL_NAMES:
        raise MigrationError(f"Unknown model {target!r}; known: {', '.join(MODEL_NAMES)}.")
    with transaction.atomic():
        lock(shared=False)
        current = open_migration()
        if current is not None:
            raise MigrationError(f"A migration is open ({current}): finalize or roll it back first.")
        source = active_model()
        if source == target:
            raise MigrationError(f"{target!r} is already the active model.")
        FaceEmbedding.objects.all().delete()  # problem rows a finished migration left for its report
        migration = ModelMigration.objects.create(source=source, target=target, allow_partial=allow_partial)
        migration.total = remaining(migration).count()
        migration.save(update_fields=["total"])
    _send(migration.id)
    return migration


def resume(migration_id: int, allow_partial: bool = False) -> ModelMigration:
    """Send a failed (or stalled) running migration's batches again, retrying the faces it could
    not re-embed (``allow_partial``: switch even if they still cannot be)."""
    with transaction.atomic():
        migration = ModelMigration.objects.select_for_update().get(pk=migration_id)
        if migration.state not in (MigrationState.RUNNING, MigrationState.FAILED):
            raise MigrationError(
                f"Only a running or failed migration can resume; this one is {migration.state}."
            )
        # The faces that could not be re-embedded are tried again (an original put back, a fix).
        not_migratable(migration).delete()
        migration.state, migration.error = MigrationState.RUNNING, ""
        migration.allow_partial = migration.allow_partial or allow_partial
        migration.save(update_fields=["state", "error", "allow_partial"])
    _send(migration.id)
    return migration


def run_batch(migration_id: int) -> bool:
    """Re-embed the next batch; switch when none is left. True when another batch should follow."""
    migration = ModelMigration.objects.filter(pk=migration_id).first()
    if migration is None or migration.state != MigrationState.RUNNING:
        return False
    began = time.perf_counter()
    batch = list(
        remaining(migration)
        .select_related("image")
        .order_by("image_id")[: settings.FACECORE_MIGRATION_BATCH_SIZE]
    )
    if not batch:
        stuck = not_migratable(migration).count()
        if stuck and not migration.allow_partial:
            mark_failed(
                migration.id,
                f"{stuck} faces cannot be re-embedded with {migration.target} (--status lists them); "
                "roll back, or resume allowing a partial switch (they keep the old model's vector and "
                "drop out of recognition).",
            )
        elif switch(migration.id):
            _announce(migration.target)
        return False
    outcomes = reembed(batch, migration.target)
    with transaction.atomic():
        # Faces deleted meanwhile are left out; the lock keeps the rest until the rows are in.
        alive = set(
            Face.objects.select_for_update(no_key=True)
            .filter(id__in=list(outcomes))
            .values_list("id", flat=True)
        )
        FaceEmbedding.objects.bulk_create(
            [
                FaceEmbedding(
                    face_id=face_id,
                    model=migration.target,
                    embedding=outcome.vector,
                    problem=outcome.problem,
                    from_crop=outcome.from_crop,
                )
                for face_id, outcome in outcomes.items()
                if face_id in alive
            ],
            ignore_conflicts=True,
        )
        ModelMigration.objects.filter(pk=migration.pk).update(
            seconds=migration.seconds + (time.perf_counter() - began)
        )
    return True


def mark_failed(migration_id: int, message: str) -> None:
    ModelMigration.objects.filter(pk=migration_id, state=MigrationState.RUNNING).update(
        state=MigrationState.FAILED, error=message[:2000]
    )


FACES = Face._meta.db_table
OTHERS = FaceEmbedding._meta.db_table


def switch(migration_id: int) -> bool:
    """Make the target active in one transaction; False if faces are still left (or not running)."""
    with transaction.atomic():
        lock(shared=False)
        migration = ModelMigration.objects.select_for_update().get(pk=migration_id)
        if migration.state != MigrationState.RUNNING or remaining(migration).exists():
            return False
        migration.from_crops = FaceEmbedding.objects.filter(model=migration.target, from_crop=True).count()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {OTHERS} (face_id, model, embedding, problem, from_crop, created_at) "
                f"SELECT f.id, f.model, f.embedding, '', false, now() FROM {FACES} f "
                f"JOIN {OTHERS} t ON t.face_id = f.id AND t.model = %s AND t.embedding IS NOT NULL",
                [migration.target],
            )
            cursor.execute(
                f"UPDATE {FACES} f SET embedding = t.embedding, model = t.model FROM {OTHERS} t "
                f"WHERE t.face_id = f.id AND t.model = %s AND t.embedding IS NOT NULL",
                [migration.target],
            )
            cursor.execute(
                f"DELETE FROM {OTHERS} WHERE model = %s AND embedding IS NOT NULL", [migration.target]
            )
        migration.state = MigrationState.SWITCHED
        migration.switched_at = timezone.now()
        migration.save(update_fields=["state", "switched_at", "from_crops"])
    return True


def _the_open_one(migration_id: int | None) -> ModelMigration:
    query = ModelMigration.objects.select_for_update()
    migration = (
        query.filter(pk=migration_id).first()
        if migration_id
        else query.filter(
            state__in=[MigrationState.RUNNING, MigrationState.FAILED, MigrationState.SWITCHED]
        ).first()
    )
    if migration is None:
        raise MigrationError("No migration is open.")
    return migration


def rollback(migration_id: int | None = None) -> ModelMigration:
    """Back to the source model: drop a running migration's vectors, or restore the old ones."""
    with transaction.atomic():
        lock(shared=False)
        migration = _the_open_one(migration_id)
        was_switched = migration.state == MigrationState.SWITCHED
        if migration.state not in (MigrationState.RUNNING, MigrationState.FAILED, MigrationState.SWITCHED):
            raise MigrationError(f"This migration is {migration.state}: there is nothing to roll back.")
        if was_switched:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {FACES} f SET embedding = o.embedding, model = o.model FROM {OTHERS} o "
                    f"WHERE o.face_id = f.id AND f.model = %s AND o.model <> %s AND o.embedding IS NOT NULL",
                    [migration.target, migration.target],
                )
        FaceEmbedding.objects.all().delete()
        migration.state = MigrationState.ROLLED_BACK
        migration.finished_at = timezone.now()
        migration.save(update_fields=["state", "finished_at"])
    if was_switched:
        _announce(migration.source)
    return migration


def finalize(migration_id: int | None = None) -> ModelMigration:
    """Delete the old embeddings of a switched migration (no rollback after this)."""
    with transaction.atomic():
        lock(shared=False)
        migration = _the_open_one(migration_id)
        if migration.state != MigrationState.SWITCHED:
            raise MigrationError(
                f"Only a switched migration can be finalized; this one is {migration.state}."
            )
        FaceEmbedding.objects.filter(embedding__isnull=False).delete()
        migration.state = MigrationState.FINALIZED
        migration.finished_at = timezone.now()
        migration.save(update_fields=["state", "finished_at"])
    return migration


@dataclass(frozen=True)
class Progress:
    migration: ModelMigration
    migrated: int
    """Faces with a vector of the target model (re-embedded, or new faces)."""
    not_migratable: int
    remaining: int
    crops: int
    """Faces re-embedded from their stored crop (original deleted)."""

    @property
    def total(self) -> int:
        return self.migrated + self.not_migratable + self.remaining

    @property
    def faces_per_second(self) -> float | None:
        done = self.migrated + self.not_migratable
        return round(done / self.migration.seconds, 1) if self.migration.seconds > 0 else None

    def to_dict(self) -> dict:
        m = self.migration
        return {
            "id": m.id,
            "source": m.source,
            "target": m.target,
            "state": m.state,
            "active_model": active_model(),
            "total": self.total,
            "migrated": self.migrated,
            "not_migratable": self.not_migratable,
            "remaining": self.remaining,
            "from_crops": self.crops,
            "seconds": round(m.seconds, 1),
            "faces_per_second": self.faces_per_second,
            "error": m.error,
        }


def progress(migration: ModelMigration) -> Progress:
    others = FaceEmbedding.objects.filter(model=migration.target)
    if migration.state in (MigrationState.SWITCHED, MigrationState.FINALIZED):
        migrated = Face.objects.filter(model=migration.target, embedding__isnull=False).count()
    else:
        migrated = others.filter(embedding__isnull=False).count()
    running = migration.state in (MigrationState.RUNNING, MigrationState.FAILED)
    return Progress(
        migration=migration,
        migrated=migrated,
        not_migratable=others.filter(embedding__isnull=True).count(),
        remaining=remaining(migration).count() if running else 0,
        crops=others.filter(from_crop=True).count() if running else migration.from_crops,
    )


def not_migratable(migration: ModelMigration) -> QuerySet[FaceEmbedding]:
    """The faces the target could not embed, with the reason (until the next migration starts)."""
    return FaceEmbedding.objects.filter(model=migration.target, embedding__isnull=True).select_related("face")


def latest() -> ModelMigration | None:
    return ModelMigration.objects.order_by("-started_at").first()


def get(migration_id: int | uuid.UUID) -> ModelMigration:
    return ModelMigration.objects.get(pk=migration_id)
