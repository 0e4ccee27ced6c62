"""How ``recognition.search.nearest`` answers a small application inside a big table (real
PostgreSQL + pgvector): the case where HNSW filtered after its scan found 8% of the true
neighbours. Every answer is checked against an exact computation in numpy."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from images.models import Face, Image, ImagePurpose
from recognition import search
from recognition.search import (
    choose_strategy,
    nearest,
    nearest_query,
    parse_version,
    pgvector_version,
)
from tenants.models import Application

DIM = 128
rng = np.random.default_rng(11)


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def near(center: np.ndarray, n: int, spread: float) -> np.ndarray:
    return unit(center + spread * rng.normal(size=(n, DIM)) / np.sqrt(DIM))


def bulk(owner: Application, vectors: np.ndarray) -> list[Face]:
    image = Image.objects.create(application=owner, purpose=ImagePurpose.JOB, status="done")
    return Face.objects.bulk_create(
        Face(application=owner, image=image, x_min=0, y_min=0, x_max=9, y_max=9, probability=1.0,
             embedding=v, model="facenet")
        for v in vectors
    )  # fmt: skip


@pytest.fixture
def crowded(db):
    """A small application (40 faces) beside a crowd of 300 faces that all lie nearer to the
    query than any of the small application's; the planner made to take the HNSW index as on a
    big table (the test's transaction is rolled back, dropped indexes included)."""
    query = unit(rng.normal(size=DIM))
    crowd = Application.objects.create(name="crowd")
    small = Application.objects.create(name="small")
    bulk(crowd, near(query, 300, 0.5))
    mine_vectors = near(unit(rng.normal(size=DIM)), 40, 1.5)  # the person is not in this application
    mine = bulk(small, mine_vectors)
    truth = [mine[i].id for i in np.argsort(-(mine_vectors @ query))[:10]]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'images_face' "
            "AND indexdef LIKE '%%btree%%' AND indexdef LIKE '%%application_id%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        # No ANALYZE: its row counts outlive the rolled-back rows and steer later tests' plans.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")  # 40 rows of 340: else it sorts them
        sql, params = nearest_query(small.id, "facenet", query, k=10, scope="jobs")
        cursor.execute("EXPLAIN " + sql, params)
        assert "face_embedding_facenet_hnsw" in "\n".join(r[0] for r in cursor.fetchall())
    return small, query, truth


def ids(found) -> list:
    return [n.face_id for n in found]


def test_a_small_application_in_a_big_table_gets_its_true_nearest_neighbours(crowded):
    small, query, truth = crowded
    assert choose_strategy(connection.cursor(), small.id, "facenet") == "exact"
    assert ids(nearest(small.id, "facenet", query, k=10, scope="jobs")) == truth


@pytest.mark.parametrize("strategy", ["iterative", "post_filter"])
def test_index_scans_that_come_back_short_are_completed_exactly(crowded, strategy):
    """Forced through HNSW with a small candidate list (ef_search 10, the crowd fills it): the
    iterative scan keeps going, the post-filter scan (pgvector < 0.8) falls back to exact."""
    small, query, truth = crowded
    assert (
        ids(nearest(small.id, "facenet", query, k=10, scope="jobs", ef_search=10, strategy=strategy)) == truth
    )


def test_big_applications_use_the_index_scan_the_server_supports(crowded, settings, monkeypatch):
    small, query, truth = crowded
    settings.FACECORE_SEARCH_EXACT_MAX = 10  # the small application counts as big now
    with connection.cursor() as cursor:
        assert pgvector_version(cursor) >= search.ITERATIVE_MIN_VERSION  # the bundled pgvector 0.8
        assert choose_strategy(cursor, small.id, "facenet") == "iterative"
        monkeypatch.setattr(search, "pgvector_version", lambda cursor: (0, 6, 2))  # a user's older server
        assert choose_strategy(cursor, small.id, "facenet") == "post_filter"
    issued: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *args: issued.append(sql) or execute(sql, *args)):
        found = nearest(small.id, "facenet", query, k=10, scope="jobs", ef_search=10)
    assert ids(found) == truth
    assert not any("iterative_scan" in sql for sql in issued), "pgvector < 0.8 has no hnsw.iterative_scan"


def test_versions_are_compared_as_numbers():
    assert parse_version("0.8.2") == (0, 8, 2) >= (0, 8)
    assert parse_version("0.10.0") > parse_version("0.8.2")
    assert parse_version("0.7.0-dev") == (0, 7, 0) < (0, 8)


def test_unknown_strategies_are_refused(db):
    with pytest.raises(ValueError, match="strategy"):
        nearest(1, "facenet", np.ones(DIM), k=1, scope="jobs", strategy="guess")
