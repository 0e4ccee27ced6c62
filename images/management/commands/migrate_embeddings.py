"""``manage.py migrate_embeddings --to dlib``: re-embed every face with another model (docs/models.md).

The work runs on the Celery workers (faces queue); this command starts it and watches it. Ctrl-C
stops the watching, not the migration.
"""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from facecore.embedders import MODEL_NAMES
from images import migration as migrations
from images.embedding_models import active_model
from images.models import MigrationState

WATCH_INTERVAL = 1.0


class Command(BaseCommand):
    help = (
        "Change the embedding model of every stored face: re-embed in the background on the workers, "
        "switch when done, then --finalize (drop the old embeddings) or --rollback."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_mutually_exclusive_group(required=True)
        actions.add_argument("--to", choices=MODEL_NAMES, help="start a migration to this model")
        actions.add_argument("--status", action="store_true", help="the latest migration's progress (JSON)")
        actions.add_argument(
            "--watch", action="store_true", help="a progress bar until the open migration switches"
        )
        actions.add_argument(
            "--rollback", action="store_true", help="back to the old model (keeps nothing new)"
        )
        actions.add_argument(
            "--finalize", action="store_true", help="delete the old embeddings (no rollback after)"
        )
        actions.add_argument("--resume", action="store_true", help="send a failed migration's batches again")
        parser.add_argument("--no-wait", action="store_true", help="with --to: start and return")
        parser.add_argument(
            "--allow-partial",
            action="store_true",
            help="with --to/--resume: switch even if some faces cannot be re-embedded (no original)",
        )

    def handle(self, *args, **options) -> None:
        try:
            if options["to"]:
                migration = migrations.start(options["to"], allow_partial=options["allow_partial"])
                self.stderr.write(f"Started {migration} for {migration.total} faces (id {migration.id}).")
                if not options["no_wait"]:
                    self._watch(migration.id)
            elif options["status"]:
                self._status()
            elif options["watch"]:
                latest = migrations.latest()
                if latest is None:
                    raise CommandError("No migration has run.")
                self._watch(latest.id)
            elif options["rollback"]:
                migration = migrations.rollback()
                self.stderr.write(f"Rolled back: the active model is {migration.source} again.")
            elif options["finalize"]:
                migration = migrations.finalize()
                self.stderr.write(
                    f"Finalized: {migration.target} is the active model; old embeddings deleted."
                )
            elif options["resume"]:
                latest = migrations.latest()
                if latest is None:
                    raise CommandError("No migration has run.")
                migration = migrations.resume(latest.id, allow_partial=options["allow_partial"])
                self._watch(migration.id)
        except migrations.MigrationError as exc:
            raise CommandError(str(exc)) from exc

    def _status(self) -> None:
        latest = migrations.latest()
        if latest is None:
            self.stdout.write(json.dumps({"active_model": active_model(), "migration": None}))
            return
        out = migrations.progress(latest).to_dict()
        out["not_migratable_faces"] = [
            {"face_id": str(row.face_id), "image_id": str(row.face.image_id), "problem": row.problem}
            for row in migrations.not_migratable(latest)[:100]
        ]
        self.stdout.write(json.dumps(out, indent=2))

    def _watch(self, migration_id: int) -> None:
        """A tqdm bar of faces done until the migration switches, fails or is rolled back."""
        progress = migrations.progress(migrations.get(migration_id))
        with tqdm(
            total=progress.total,
            unit="face",
            desc=f"{progress.migration.source} -> {progress.migration.target}",
        ) as bar:
            while True:
                progress = migrations.progress(migrations.get(migration_id))
                bar.total = progress.total
                bar.n = progress.migrated + progress.not_migratable
                bar.refresh()
                if progress.migration.state != MigrationState.RUNNING:
                    break
                time.sleep(WATCH_INTERVAL)
        state = progress.migration.state
        if state == MigrationState.SWITCHED:
            self.stderr.write(
                f"Switched to {progress.migration.target}: {progress.migrated} faces, "
                f"{progress.not_migratable} not migratable (--status lists them), "
                f"{progress.faces_per_second} faces/s. Check the results, then --finalize or --rollback."
            )
        elif state == MigrationState.FAILED:
            raise CommandError(f"The migration failed: {progress.migration.error} (--resume or --rollback)")
        else:
            self.stderr.write(f"The migration is {state}.")
