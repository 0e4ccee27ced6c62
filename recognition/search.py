"""Nearest-neighbour search over the faces' embeddings with pgvector.

One HNSW index per model (see migration 0001_face_embedding_hnsw): the column has no fixed
dimension, so each index is on the expression ``embedding::vector(D)`` restricted to
``model = '<name>'``. Queries repeat exactly that expression and predicate (model inlined as
a literal) so the planner can use the index; ``hnsw.*`` settings are set per query with
SET LOCAL inside a transaction.

The HNSW index holds every application's faces, and an application is a filter on it. How one
query is answered (``nearest``, chosen by measurement, see docs/benchmarks.md "Vector search"):

- ``exact``: the application has at most ``FACECORE_SEARCH_EXACT_MAX`` faces of the model. The
  uncast column matches no HNSW index, so PostgreSQL reads the application's rows through the
  btree index on (application_id, model) and sorts them: exact, and cheaper than any index
  scan at that size.
- ``iterative`` (pgvector >= 0.8): HNSW with ``hnsw.iterative_scan = relaxed_order``, which
  keeps scanning until ``k`` rows pass the filter (at most ``FACECORE_SEARCH_MAX_SCAN_TUPLES``).
- ``post_filter`` (older pgvector, e.g. a user's own server): HNSW filtered after the scan.

Whenever an index scan returns fewer than ``k`` rows the query is repeated exactly, so results
are never short because of the index.

Embeddings are unit vectors, so ``L2 = sqrt(2 * cosine_distance)``; results carry the L2
distance because the models' thresholds are calibrated on it.
"""

from __future__ import annotations

import math
import uuid
import weakref
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from images.models import Face, Image
from metrics.search import observed
from recognition.models_info import model_info


@dataclass(frozen=True)
class Neighbour:
    face_id: uuid.UUID
    image_id: uuid.UUID
    subject_id: int | None
    cluster_id: int | None
    distance: float
    """L2 distance between the unit embeddings (0..2)."""
    quality: float | None = None
    """The face's quality score (facecore.quality), None for faces stored before it existed."""


def embedding_expr(model: str) -> str:
    """The indexed expression for ``model`` (validated against the known models)."""
    return f"(f.embedding::vector({model_info(model).dimension}))"


def model_predicate(model: str) -> str:
    model_info(model)  # KeyError for unknown names: never interpolate anything else
    return f"f.model = '{model}'"


def l2_from_cosine(cosine_distance: float) -> float:
    return math.sqrt(max(0.0, 2.0 * float(cosine_distance)))


def vector_literal(vector: Sequence[float] | np.ndarray) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in np.asarray(vector, dtype=np.float32).ravel()) + "]"


SCOPES = {
    "subjects": "f.subject_id IS NOT NULL",
    "unnamed_jobs": "f.subject_id IS NULL AND i.purpose = 'job'",
    "jobs": "i.purpose = 'job'",
}
"""Which faces a query looks at; probe images never take part."""


def nearest_query(
    application_id: uuid.UUID | str,
    model: str,
    vector: Sequence[float] | np.ndarray,
    *,
    k: int,
    scope: str,
    exclude_image_id: uuid.UUID | str | None = None,
    exclude_face_ids: Collection[uuid.UUID | str] = (),
    exclude_subject_ids: Collection[int] = (),
    exact: bool = False,
) -> tuple[str, list]:
    """The SQL (and parameters) of ``nearest``: the indexed expression, ordered by it, limited.

    ``exact`` compares the uncast column instead, which no HNSW index matches: an exact scan.
    ``exclude_face_ids`` / ``exclude_subject_ids`` leave out faces (and subjects' faces) that a
    reviewer marked different (recognition.rejections); empty, they add nothing to the query.
    """
    dim = model_info(model).dimension
    expr = "f.embedding" if exact else embedding_expr(model)
    cast = "vector" if exact else f"vector({dim})"
    where = [model_predicate(model), "f.application_id = %s", SCOPES[scope]]
    params: list = [vector_literal(vector), str(application_id)]
    if exclude_image_id is not None:
        where.append("f.image_id <> %s")
        params.append(str(exclude_image_id))
    if exclude_face_ids:
        where.append("NOT (f.id = ANY(%s::uuid[]))")
        params.append([str(face_id) for face_id in exclude_face_ids])
    if exclude_subject_ids:
        where.append("(f.subject_id IS NULL OR NOT (f.subject_id = ANY(%s::bigint[])))")
        params.append([int(subject_id) for subject_id in exclude_subject_ids])
    sql = (
        f"SELECT f.id, f.image_id, f.subject_id, f.cluster_id, {expr} <=> %s::{cast} AS cos, "
        f"(f.quality->>'score')::float AS quality "
        f"FROM {Face._meta.db_table} f JOIN {Image._meta.db_table} i ON i.id = f.image_id "
        f"WHERE {' AND '.join(where)} ORDER BY cos LIMIT %s"
    )
    params.append(int(k))
    return sql, params


ITERATIVE_MIN_VERSION = (0, 8)
STRATEGIES = ("exact", "iterative", "post_filter")

_versions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def pgvector_version(cursor) -> tuple[int, ...]:
    """The ``vector`` extension's version in this database, read once per connection."""
    raw = cursor.connection  # the driver's connection (psycopg): a reconnect asks again
    if raw not in _versions:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
        _versions[raw] = parse_version(row[0] if row else "0")
    return _versions[raw]


def parse_version(text: str) -> tuple[int, ...]:
    """``"0.8.2"`` -> ``(0, 8, 2)``; a suffix such as ``"0.7.0-dev"`` is ignored."""
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


EF_MAX = 1000  # pgvector's upper limit of hnsw.ef_search


def application_size(cursor, application_id: uuid.UUID | str, model: str, *, limit: int) -> int:
    """How many faces of ``model`` the application holds, counted up to ``limit + 1`` only.

    An index-only scan of the (application_id, model) btree, so it costs at most ``limit``
    index entries whatever the application's size.
    """
    cursor.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {Face._meta.db_table} f "
        f"WHERE f.application_id = %s AND {model_predicate(model)} LIMIT %s) s",
        [str(application_id), int(limit) + 1],
    )
    return int(cursor.fetchone()[0])


def choose_strategy(cursor, application_id: uuid.UUID | str, model: str) -> str:
    """``exact`` for small applications, else the best index scan the server's pgvector has."""
    exact_max = int(settings.FACECORE_SEARCH_EXACT_MAX)
    if exact_max > 0 and application_size(cursor, application_id, model, limit=exact_max) <= exact_max:
        return "exact"
    return "iterative" if pgvector_version(cursor) >= ITERATIVE_MIN_VERSION else "post_filter"


@observed  # latency histogram (docs/metrics.md); the search itself is untouched
def nearest(
    application_id: uuid.UUID | str,
    model: str,
    vector: Sequence[float] | np.ndarray,
    *,
    k: int,
    scope: str,
    max_distance: float | None = None,
    exclude_image_id: uuid.UUID | str | None = None,
    exclude_face_ids: Collection[uuid.UUID | str] = (),
    exclude_subject_ids: Collection[int] = (),
    ef_search: int | None = None,
    strategy: str | None = None,
) -> list[Neighbour]:
    """The ``k`` nearest faces of one application, nearest first.

    ``max_distance`` (L2) drops farther results after the search. ``strategy`` forces one of
    ``STRATEGIES`` (benchmarks, tests); by default ``choose_strategy`` picks it (module doc).
    """
    kwargs = {
        "k": k,
        "scope": scope,
        "exclude_image_id": exclude_image_id,
        "exclude_face_ids": exclude_face_ids,
        "exclude_subject_ids": exclude_subject_ids,
    }
    if strategy is not None and strategy not in STRATEGIES:
        raise ValueError(f"unknown search strategy {strategy!r}")
    with transaction.atomic(), connection.cursor() as cursor:
        chosen = strategy or choose_strategy(cursor, application_id, model)
        rows: list = []
        if chosen != "exact":
            ef = min(EF_MAX, max(int(ef_search or settings.FACECORE_SEARCH_EF), int(k)))
            cursor.execute(f"SET LOCAL hnsw.ef_search = {ef}")
            if chosen == "iterative":
                cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                cursor.execute(
                    f"SET LOCAL hnsw.max_scan_tuples = {int(settings.FACECORE_SEARCH_MAX_SCAN_TUPLES)}"
                )
            cursor.execute(*nearest_query(application_id, model, vector, **kwargs))
            rows = cursor.fetchall()
        if len(rows) < k:
            # Exact by choice, or the index scan came back short: the filter (a small scope, or
            # pgvector < 0.8 filtering after the scan) left fewer than k of the candidates.
            cursor.execute(*nearest_query(application_id, model, vector, exact=True, **kwargs))
            rows = cursor.fetchall()
    rows.sort(key=lambda r: r[4])  # relaxed_order returns rows only roughly ordered
    out = [Neighbour(r[0], r[1], r[2], r[3], l2_from_cosine(r[4]), r[5]) for r in rows]
    if max_distance is not None:
        out = [n for n in out if n.distance <= max_distance]
    return out
