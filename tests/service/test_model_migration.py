"""Model migrations (fast tier): the state machine of images.migration with the fake engine's two
models (tests/fakes.py: ``facenet`` and ``dlib`` see the same people in unrelated vector spaces).

Batches are run one at a time here (the worker task's sends are recorded, not run), so the tests
can look at the service between them; the command test runs the whole chain through the eager
worker task.
"""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from images import migration
from images.embedding_models import active_model
from images.models import Face, FaceEmbedding, MigrationState
from infra.storage import crop_key, get_store
from recognition.models import Cluster, Match
from tests.fakes import BLUE, GREEN, RED, painted, person
from tests.requests import enrol, recognize, submit


def photo_of(colour, shade: int = 0) -> bytes:
    return painted([(60, 50, 80, person(colour, shade))])


@pytest.fixture
def batches(monkeypatch, settings):
    """Batches of 2, sent to a list instead of the workers; ``run()`` runs the next one."""
    settings.FACECORE_MIGRATION_BATCH_SIZE = 2
    sent: list[int] = []
    monkeypatch.setattr(migration, "_send", sent.append)

    class Runner:
        def run(self) -> bool:
            return migration.run_batch(sent[-1])

        def run_all(self) -> None:
            while self.run():
                pass

    return Runner()


@pytest.fixture
def world(api):
    """Alice and Bob enrolled, three job photos of one unknown (green) person."""
    enrol(api, "alice", photo_of(RED, 10))
    enrol(api, "bob", photo_of(BLUE))
    jobs = [submit(api, photo_of(GREEN, shade))["image_id"] for shade in (-10, 0, 10)]
    return jobs


def top(api, photo: bytes) -> tuple[str, str]:
    """(best subject, model) of a recognize call."""
    body = recognize(api, photo)
    return body["faces"][0]["subjects"][0]["subject"], body["model"]


def test_faces_are_reembedded_in_the_background_then_switched(api, world, batches):
    assert active_model() == "facenet" and top(api, photo_of(RED)) == ("alice", "facenet")
    started = migration.start("dlib")
    assert (started.source, started.target, started.total) == ("facenet", "dlib", 5)

    assert batches.run()
    progress = migration.progress(migration.get(started.id))
    assert (progress.migrated, progress.remaining, progress.migration.state) == (2, 3, "running")
    # During the migration the service answers with the old model.
    assert top(api, photo_of(RED, -5)) == ("alice", "facenet")
    assert top(api, photo_of(BLUE, 5)) == ("bob", "facenet")

    # A face arriving now is stored with the old model and gets the new model's vector too.
    late = submit(api, photo_of(GREEN, 5))["image_id"]
    late_face = Face.objects.get(image_id=late)
    assert late_face.model == "facenet"
    assert FaceEmbedding.objects.filter(face=late_face, model="dlib", embedding__isnull=False).exists()
    assert migration.progress(migration.get(started.id)).remaining == 3  # not added to the work

    batches.run_all()
    done = migration.get(started.id)
    assert done.state == MigrationState.SWITCHED and active_model() == "dlib"
    assert set(Face.objects.values_list("model", flat=True)) == {"dlib"}
    assert FaceEmbedding.objects.filter(model="facenet").count() == 6  # kept for a rollback
    assert top(api, photo_of(RED, -5)) == ("alice", "dlib")
    assert top(api, photo_of(BLUE, 5)) == ("bob", "dlib")

    # Matches and clusters were recomputed with dlib's distances: the four green job photos.
    green = Face.objects.filter(image_id__in=[*world, late])
    pairs = Match.objects.filter(face__in=green)
    assert pairs.count() == 4 * 3
    assert all(d <= 0.39 for d in pairs.values_list("distance", flat=True))
    [cluster] = Cluster.objects.all()
    assert set(cluster.faces.values_list("id", flat=True)) == set(green.values_list("id", flat=True))


def test_rollback_after_the_switch_restores_the_old_embeddings(api, world, batches):
    before = {f.id: np.asarray(f.embedding) for f in Face.objects.all()}
    started = migration.start("dlib")
    batches.run_all()
    arrived = submit(api, photo_of(GREEN, 7))["image_id"]  # after the switch: gets facenet too
    assert Face.objects.get(image_id=arrived).model == "dlib"

    migration.rollback()
    assert migration.get(started.id).state == MigrationState.ROLLED_BACK
    assert active_model() == "facenet" and not FaceEmbedding.objects.exists()
    assert set(Face.objects.values_list("model", flat=True)) == {"facenet"}
    for face in Face.objects.exclude(image_id=arrived):
        np.testing.assert_allclose(np.asarray(face.embedding), before[face.id], atol=1e-6)
    assert top(api, photo_of(RED, -5)) == ("alice", "facenet")
    assert Match.objects.filter(face__image_id=arrived).count() == 3
    with pytest.raises(migration.MigrationError):
        migration.finalize()


def test_rollback_of_a_running_migration_drops_its_work(api, world, batches):
    migration.start("dlib")
    batches.run()
    migration.rollback()
    assert not FaceEmbedding.objects.exists() and active_model() == "facenet"
    assert not batches.run()  # a batch still in the queue does nothing
    assert set(Face.objects.values_list("model", flat=True)) == {"facenet"}


def test_finalize_deletes_the_old_embeddings(api, world, batches):
    migration.start("dlib")
    batches.run_all()
    migration.finalize()
    assert not FaceEmbedding.objects.exists() and active_model() == "dlib"
    with pytest.raises(migration.MigrationError, match="nothing to roll back|No migration"):
        migration.rollback()
    # A second migration back to facenet is a new one.
    migration.start("facenet")
    batches.run_all()
    assert active_model() == "facenet" and top(api, photo_of(RED)) == ("alice", "facenet")


def test_one_migration_at_a_time_and_not_to_the_active_model(api, world, batches):
    with pytest.raises(migration.MigrationError, match="already the active model"):
        migration.start("facenet")
    with pytest.raises(migration.MigrationError, match="Unknown model"):
        migration.start("resnet")
    migration.start("dlib")
    with pytest.raises(migration.MigrationError, match="is open"):
        migration.start("facenet512")


def test_a_job_that_started_before_the_switch_is_stored_with_the_new_model(api, world, batches, monkeypatch):
    migration.start("dlib")
    batches.run_all()
    # The job read the active model before the switch (facenet); it commits after it.
    monkeypatch.setattr("images.pipeline.active_model", lambda: "facenet")
    late = submit(api, photo_of(GREEN, 3))["image_id"]
    face = Face.objects.get(image_id=late)
    assert face.model == "dlib"
    assert FaceEmbedding.objects.filter(face=face, model="facenet", embedding__isnull=False).exists()


def without_originals(api) -> tuple[list[str], Face]:
    """Alice enrolled and three green jobs, stored with FACECORE_KEEP_ORIGINALS=false; the
    last job's crop is gone too (returned)."""
    enrol(api, "alice", photo_of(RED, 10))
    jobs = [submit(api, photo_of(GREEN, shade))["image_id"] for shade in (-10, 0, 10)]
    lost = Face.objects.get(image_id=jobs[2])
    get_store().delete(crop_key(lost.id))
    return jobs, lost


def test_faces_without_originals_stop_the_switch_until_allowed(api, batches, settings):
    """dlib does not re-embed from crops (images.reembed.CROP_MODELS): nothing to embed from."""
    settings.FACECORE_KEEP_ORIGINALS = False
    jobs, _ = without_originals(api)
    started = migration.start("dlib")
    batches.run_all()
    stopped = migration.get(started.id)
    assert stopped.state == MigrationState.FAILED and "4 faces cannot be re-embedded" in stopped.error
    assert active_model() == "facenet" and top(api, photo_of(RED)) == ("alice", "facenet")
    assert {r.problem for r in migration.not_migratable(stopped)} == {"original_deleted"}

    migration.resume(started.id, allow_partial=True)
    batches.run_all()
    assert migration.get(started.id).state == MigrationState.SWITCHED and active_model() == "dlib"
    # The faces keep their facenet vectors, which dlib's searches do not see: alice is unknown.
    assert set(Face.objects.values_list("model", flat=True)) == {"facenet"}
    assert recognize(api, photo_of(RED))["faces"][0]["subjects"] == []


def test_without_originals_a_crop_model_reembeds_from_the_crops(api, batches, settings, monkeypatch):
    settings.FACECORE_KEEP_ORIGINALS = False
    monkeypatch.setattr("images.reembed.CROP_MODELS", frozenset({"dlib"}))
    jobs, lost = without_originals(api)
    started = migration.start("dlib", allow_partial=True)
    batches.run_all()
    progress = migration.progress(migration.get(started.id))
    assert progress.migration.state == MigrationState.SWITCHED
    assert (progress.migrated, progress.not_migratable, progress.crops) == (3, 1, 3)
    [report] = migration.not_migratable(progress.migration)
    assert (report.face_id, report.problem) == (lost.id, "original_deleted")
    lost.refresh_from_db()
    assert lost.model == "facenet"  # keeps its old vector, out of the new model's searches
    assert top(api, photo_of(RED, -5)) == ("alice", "dlib")
    assert Match.objects.filter(face__image_id=jobs[0]).count() == 1


def test_the_command_runs_the_migration_on_the_workers(api, world):
    """``--to`` sends the batches (run eagerly here) and shows the bar; --status, --rollback."""
    err = StringIO()
    call_command("migrate_embeddings", "--to", "dlib", stderr=err)
    assert "Switched to dlib: 5 faces, 0 not migratable" in err.getvalue()
    out = StringIO()
    call_command("migrate_embeddings", "--status", stdout=out)
    status = json.loads(out.getvalue())
    assert status["state"] == "switched" and status["active_model"] == "dlib" and status["migrated"] == 5
    assert top(api, photo_of(RED)) == ("alice", "dlib")
    with pytest.raises(CommandError, match="is open"):
        call_command("migrate_embeddings", "--to", "facenet512", stderr=StringIO())
    call_command("migrate_embeddings", "--rollback", stderr=StringIO())
    assert active_model() == "facenet" and top(api, photo_of(RED)) == ("alice", "facenet")


def test_the_admin_starts_a_migration_and_rolls_it_back(api, world, admin_client):
    response = admin_client.post("/admin/images/modelmigration/add/", {"target": "dlib"}, follow=True)
    assert response.status_code == 200 and b"Started facenet -&gt; dlib" in response.content
    listing = admin_client.get("/admin/images/modelmigration/").content.decode()
    assert "switched" in listing and "5 / 0 / 0" in listing
    started = migration.latest()
    admin_client.post(
        "/admin/images/modelmigration/",
        {"action": "rollback", "_selected_action": [started.pk]},
        follow=True,
    )
    assert migration.get(started.pk).state == "rolled_back" and active_model() == "facenet"
