"""Nearest-neighbour search over the faces' embeddings with pgvector.

One HNSW index per model (see migration 0001_face_embedding_hnsw): the column has no fixed
dimension, so each index is on the expression ``embedding::vector(D)`` restricted to
``model = '<name>'``. Queries repeat exactly that expression and predicate (model inlined as
a literal) so the planner can use the index; ``hnsw.ef_search`` is set per query with
SET LOCAL inside a transaction.

Embeddings are unit vectors, so ``L2 = sqrt(2 * cosine_distance)``; results carry the L2
distance because the models' thresholds are calibrated on it.
"""

from __future__ import annotations

import math
import uuid
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
) -> list[Neighbour]:
    """The ``k`` nearest faces of one application, nearest first.

    ``max_distance`` (L2) drops farther results after the search. HNSW filters after scanning
    ``ef_search`` candidates (raised to at least ``k``), so a selective filter can leave fewer
    than ``k`` rows; then the query is repeated as an exact scan (cheap exactly when the scope
    is small).
    """
    kwargs = {
        "k": k,
        "scope": scope,
        "exclude_image_id": exclude_image_id,
        "exclude_face_ids": exclude_face_ids,
        "exclude_subject_ids": exclude_subject_ids,
    }
    sql, params = nearest_query(application_id, model, vector, **kwargs)
    ef = max(int(ef_search or settings.FACECORE_SEARCH_EF), int(k))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL hnsw.ef_search = {ef}")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        if len(rows) < k:
            # Fewer than k: either there are no more faces in scope, or HNSW's post-filter
            # dropped them (a small tenant or scope in a big table). An exact scan settles it;
            # it is cheap exactly when the scope is small.
            cursor.execute(*nearest_query(application_id, model, vector, exact=True, **kwargs))
            rows = cursor.fetchall()
    out = [Neighbour(r[0], r[1], r[2], r[3], l2_from_cosine(r[4]), r[5]) for r in rows]
    if max_distance is not None:
        out = [n for n in out if n.distance <= max_distance]
    return out
