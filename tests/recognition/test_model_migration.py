"""A model migration with the real parts: facenet -> dlib on the shared photos, the batches run by
the real Celery worker (Redis) with the real models, originals on the S3 server.

The first batch runs here in the test (same code as the worker task) so the service can be asked
questions at a known point in the middle; the rest is resumed on the worker.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from images import migration
from images.embedding_models import active_model
from images.models import Face, FaceEmbedding, MigrationState
from recognition.models import Match
from recognition.models_info import model_info
from tests.recognition.conftest import wait_done
from tests.requests import enrol, recognize, upload

SAME_PERSON_JOBS = ("img38", "img39", "img40", "img41")
"""Four photos of one person (face-recognition-pivot.csv: every pair is 'Yes')."""


def top(api, photo: bytes) -> tuple[str | None, str]:
    body = recognize(api, photo)
    subjects = body["faces"][0]["subjects"]
    return (subjects[0]["subject"] if subjects else None), body["model"]


def wait_for(condition, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise TimeoutError(what)


def matches_follow(model: str, image_ids: list[str]) -> bool:
    """The job photos have matches, each stored with the distance of ``model``'s embeddings."""
    faces = {f.id: f for f in Face.objects.filter(image_id__in=image_ids)}
    rows = list(Match.objects.filter(face_id__in=faces, other_face_id__in=faces))
    if not rows or any(f.model != model for f in faces.values()):
        return False
    return all(
        abs(
            r.distance
            - np.linalg.norm(np.asarray(faces[r.face_id].embedding) - faces[r.other_face_id].embedding)
        )
        < 1e-3
        for r in rows
    )


@pytest.fixture
def dlib_ready(warm_engine):
    from facecore.fetch import weights_present

    if not weights_present("dlib", warm_engine.settings.models_dir):
        pytest.skip("dlib weights missing: run `python -m facecore models fetch dlib`")


def test_facenet_to_dlib_on_the_worker_then_rollback(api, photos, settings, monkeypatch, dlib_ready):
    settings.FACECORE_MIGRATION_BATCH_SIZE = 2
    enrol(api, "alice", photos("img1"))
    enrol(api, "alice", photos("img6"))
    enrol(api, "bob", photos("img26"))
    jobs = []
    for name in SAME_PERSON_JOBS:
        response = api.post("/api/v1/images", {"image": upload(photos(name))}, format="multipart")
        jobs.append(response.json()["image_id"])
    for image_id in jobs:
        assert wait_done(api, image_id)["status"] == "done"
    before = {f.id: np.asarray(f.embedding) for f in Face.objects.all()}
    assert len(before) == 7
    assert matches_follow("facenet", jobs)
    assert top(api, photos("img10")) == ("alice", "facenet")

    # Start without sending, run one batch here: a known point in the middle of the migration.
    sent: list[int] = []
    monkeypatch.setattr(migration, "_send", sent.append)
    started = migration.start("dlib")
    assert started.total == 7 and migration.run_batch(started.id)
    assert migration.progress(migration.get(started.id)).remaining == 5
    assert top(api, photos("img10")) == ("alice", "facenet")  # during: still the old model
    assert top(api, photos("img27")) == ("bob", "facenet")
    # A job arriving now: stored with facenet, and its dlib vector is computed by the worker too.
    late = api.post("/api/v1/images", {"image": upload(photos("img2"))}, format="multipart").json()[
        "image_id"
    ]
    assert wait_done(api, late)["status"] == "done"
    late_face = Face.objects.get(image_id=late)
    assert late_face.model == "facenet"
    assert FaceEmbedding.objects.filter(face=late_face, model="dlib", embedding__isnull=False).exists()
    assert migration.progress(migration.get(started.id)).remaining == 5
    monkeypatch.undo()

    migration.resume(started.id)  # the rest on the worker
    wait_for(
        lambda: migration.get(started.id).state == MigrationState.SWITCHED, "the migration did not switch"
    )
    assert active_model() == "dlib"
    assert set(Face.objects.values_list("model", flat=True)) == {"dlib"}
    assert all(len(f.embedding) == model_info("dlib").dimension for f in Face.objects.all())
    assert not FaceEmbedding.objects.filter(model="dlib").exists()  # all moved into the faces
    assert top(api, photos("img10")) == ("alice", "dlib")  # after: the new model
    assert top(api, photos("img27")) == ("bob", "dlib")
    wait_for(lambda: matches_follow("dlib", jobs), "matches were not recomputed with dlib")

    migration.rollback()
    assert active_model() == "facenet" and not FaceEmbedding.objects.exists()
    assert Face.objects.get(image_id=late).model == "facenet"
    for face in Face.objects.exclude(image_id=late):
        assert face.model == "facenet"
        np.testing.assert_allclose(np.asarray(face.embedding), before[face.id], atol=1e-6)
    assert top(api, photos("img10")) == ("alice", "facenet")
    wait_for(lambda: matches_follow("facenet", jobs), "matches were not recomputed after the rollback")
