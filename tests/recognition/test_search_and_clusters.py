"""Vector search, image matches and the clustering rule on synthetic embeddings.

No models needed: rows are written directly with unit vectors whose distances are chosen
relative to the facenet threshold (1.05), so each case is clearly inside or outside it.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from images.models import Face, Image, ImagePurpose
from recognition.clustering import cluster_face
from recognition.matching import store_matches
from recognition.models import Cluster, Match, Subject
from recognition.models_info import model_info
from recognition.search import nearest, nearest_query
from tenants.models import Application

DIM = 128
rng = np.random.default_rng(7)


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def identity() -> np.ndarray:
    return unit(rng.normal(size=DIM))


GOOD = {"score": 0.95, "reasons": []}
"""The quality of a clear, frontal, large face (these rows stand for good photos)."""


def sample(center: np.ndarray, distance: float = 0.3) -> np.ndarray:
    """A unit vector at about ``distance`` (L2) from ``center``."""
    noise = rng.normal(size=DIM)
    noise -= noise.dot(center) * center
    noise = unit(noise)
    angle = 2 * np.arcsin(distance / 2)
    return unit(np.cos(angle) * center + np.sin(angle) * noise)


@pytest.fixture
def app(db) -> Application:
    return Application.objects.create(name="tenant")


def add_face(
    app, vector, purpose=ImagePurpose.JOB, subject=None, model="facenet", image=None, quality=GOOD
) -> Face:
    image = image or Image.objects.create(application=app, purpose=purpose, status="done")
    return Face.objects.create(
        application=app,
        image=image,
        x_min=0,
        y_min=0,
        x_max=10,
        y_max=10,
        probability=0.99,
        embedding=vector,
        model=model,
        subject=subject,
        quality=quality,
    )


def test_one_hnsw_index_per_model(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'images_face'")
        defs = dict(cursor.fetchall())
    for name, dim in (("facenet", 128), ("dlib", 128), ("facenet512", 512)):
        for index in (defs[f"face_embedding_{name}_hnsw"], defs[f"face_embedding_{name}_subjects_hnsw"]):
            assert "hnsw" in index and f"vector({dim})" in index and "vector_cosine_ops" in index
            assert f"'{name}'" in index
        assert "subject_id IS NOT NULL" in defs[f"face_embedding_{name}_subjects_hnsw"]


@pytest.mark.parametrize(
    ("model", "scope", "index"),
    [
        ("facenet", "jobs", "face_embedding_facenet_hnsw"),
        ("dlib", "unnamed_jobs", "face_embedding_dlib_hnsw"),
        ("facenet", "subjects", "face_embedding_facenet_subjects_hnsw"),
        ("facenet512", "subjects", "face_embedding_facenet512_subjects_hnsw"),
    ],
)
def test_search_query_uses_the_models_index(app, model, scope, index):
    sql, params = nearest_query(
        app.id, model, identity() if model != "facenet512" else np.ones(512), k=5, scope=scope
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # Only an index whose expression and predicate the query matches can spare the sort (on
        # a near-empty table the planner would sort: earlier tests leave dead pages behind).
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Scan using {index} " in plan


def test_exact_rescan_of_examples_reads_only_examples(app):
    sql, params = nearest_query(app.id, "facenet", identity(), k=5, scope="subjects", exact=True)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "face_examples_app_model" in plan and "hnsw" not in plan


def test_faces_filtered_out_by_the_index_scan_are_found_by_the_exact_rescan(app):
    """HNSW filters after its candidate list: when every candidate belongs to another tenant,
    the index scan returns nothing and the exact re-scan must still find this tenant's faces.

    Uses the ``db`` fixture (one transaction) so the dropped btree indexes come back after."""
    crowd = Application.objects.create(name="crowd")
    center = identity()

    def bulk(owner, distance):
        image = Image.objects.create(application=owner, purpose=ImagePurpose.JOB, status="done")
        return Face.objects.bulk_create(
            Face(application=owner, image=image, x_min=0, y_min=0, x_max=9, y_max=9, probability=1.0,
                 embedding=sample(center, distance), model="facenet")
            for _ in range(300)
        )  # fmt: skip

    bulk(crowd, 0.3)  # the crowd is nearer to the query than any of ours
    mine = {f.id for f in bulk(app, 1.2)}
    with connection.cursor() as cursor:
        # Make the planner take HNSW on this small table, as it does on a big one (the test's
        # transaction is rolled back afterwards, indexes included).
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'images_face' "
            "AND indexdef LIKE '%%btree%%' AND indexdef LIKE '%%application_id%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        # Statistics of these rows, not of what earlier tests left behind (they steer the plan).
        cursor.execute("ANALYZE images_face, images_image")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")  # PostgreSQL 18 would sort the 300 rows instead
        sql, params = nearest_query(app.id, "facenet", center, k=3, scope="jobs")
        cursor.execute("EXPLAIN " + sql, params)
        assert "face_embedding_facenet_hnsw" in "\n".join(r[0] for r in cursor.fetchall())
    found = nearest(app.id, "facenet", center, k=3, scope="jobs", ef_search=10)
    assert len(found) == 3 and {n.face_id for n in found} <= mine


def test_subject_scope_sees_only_named_faces_and_no_probes(app):
    alice = Subject.objects.create(application=app, name="alice")
    center = identity()
    named = add_face(app, sample(center), purpose=ImagePurpose.EXAMPLE, subject=alice)
    add_face(app, sample(center, 0.1), purpose=ImagePurpose.PROBE)
    add_face(app, sample(center, 0.1))
    assert [n.face_id for n in nearest(app.id, "facenet", center, k=10, scope="subjects")] == [named.id]
    jobs = nearest(app.id, "facenet", center, k=10, scope="jobs")
    assert all(Face.objects.get(pk=n.face_id).image.purpose == "job" for n in jobs) and len(jobs) == 1


def test_other_models_are_not_mixed(app):
    v = identity()
    add_face(app, unit(rng.normal(size=512)), model="facenet512")
    add_face(app, v, model="dlib")
    facenet = add_face(app, sample(v, 0.8))
    assert [n.face_id for n in nearest(app.id, "facenet", v, k=10, scope="jobs")] == [facenet.id]


def test_matches_are_stored_both_ways_within_the_threshold(app):
    center = identity()
    earlier = add_face(app, sample(center))
    stranger = add_face(app, identity())
    new = add_face(app, sample(center))
    store_matches([new])
    pairs = set(Match.objects.values_list("face_id", "other_face_id"))
    assert pairs == {(new.id, earlier.id), (earlier.id, new.id)}
    match = Match.objects.get(face=new)
    assert match.distance <= model_info("facenet").threshold and 0.5 < match.similarity <= 1
    assert stranger.id not in {p for pair in pairs for p in pair}


def test_clusters_form_from_three_images_and_grow(app):
    carl, dora = identity(), identity()
    first = add_face(app, sample(carl))
    assert cluster_face(first) is None  # alone
    second = add_face(app, sample(carl))
    assert cluster_face(second) is None  # two faces: below FACECORE_CLUSTER_MIN_FACES (3)
    third = add_face(app, sample(carl))
    cluster_id = cluster_face(third)
    assert cluster_id is not None
    assert set(Cluster.objects.get(pk=cluster_id).faces.values_list("id", flat=True)) == {
        first.id,
        second.id,
        third.id,
    }
    fourth = add_face(app, sample(carl))
    assert cluster_face(fourth) == cluster_id
    stranger = add_face(app, sample(dora))
    assert cluster_face(stranger) is None
    assert Cluster.objects.count() == 1


def test_two_faces_of_one_image_do_not_count_as_two_images(app):
    carl = identity()
    image = Image.objects.create(application=app, purpose=ImagePurpose.JOB, status="done")
    add_face(app, sample(carl), image=image)
    add_face(app, sample(carl), image=image)
    new = add_face(app, sample(carl))
    assert cluster_face(new) is None


def test_faces_of_known_subjects_are_not_clustered(app):
    carl = identity()
    subject = Subject.objects.create(application=app, name="carl")
    add_face(app, sample(carl), purpose=ImagePurpose.EXAMPLE, subject=subject)
    faces = [add_face(app, sample(carl)) for _ in range(3)]
    assert [cluster_face(f) for f in faces] == [None, None, None]


def test_faces_below_the_quality_floor_are_neither_matched_nor_clustered(app):
    carl = identity()
    poor = {"score": 0.01, "reasons": ["small_face", "blurred"]}
    faces = [add_face(app, sample(carl)) for _ in range(2)]
    small = add_face(app, sample(carl, 0.1), quality=poor)
    assert store_matches([small]) == 0
    assert cluster_face(small) is None
    assert not Match.objects.filter(face=small).exists()
    # Good faces still match each other, and the poor one takes no part.
    assert store_matches([faces[1]]) == 2


def test_a_fair_face_joins_a_cluster_but_does_not_found_one(app):
    carl = identity()
    fair = {"score": 0.3, "reasons": ["small_face"]}
    first, second = add_face(app, sample(carl, 0.15)), add_face(app, sample(carl, 0.15))
    third = add_face(app, sample(carl, 0.15), quality=fair)
    assert cluster_face(third) is None, "a fair face founded a cluster"
    fourth = add_face(app, sample(carl, 0.15))
    cluster_id = cluster_face(fourth)
    assert cluster_id is not None
    members = set(Cluster.objects.get(pk=cluster_id).faces.values_list("id", flat=True))
    assert members == {first.id, second.id, fourth.id}, "the fair face is not a founder"
    assert cluster_face(third) == cluster_id, "a fair face that matches joins the cluster"
