"""Synthetic face embeddings and a raw connection to the service's PostgreSQL, shared by the
search and review-page benchmarks (they bulk-load millions of rows with COPY)."""

from __future__ import annotations

import numpy as np

SAME_IDENTITY_COSINE = 0.7
"""Cosine between two samples of one synthetic identity (about what FaceNet gives one person)."""


def synthetic(identities: int, per: int, dim: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, float]:
    """Unit vectors: ``per`` noisy samples around each random identity centre.

    sample = normalize(centre + sigma * n), n ~ N(0, I/dim); two samples of one identity then
    have cosine about 1 / (1 + sigma^2), set to SAME_IDENTITY_COSINE.
    """
    rng = np.random.default_rng(seed)
    sigma = (1 / SAME_IDENTITY_COSINE - 1) ** 0.5
    centres = rng.normal(size=(identities, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return centres, np.repeat(np.arange(identities), per), sigma


def samples_of(centres: np.ndarray, ids: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    dim = centres.shape[1]
    x = centres[ids] + sigma * rng.normal(size=(len(ids), dim)).astype(np.float32) / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def connect(dbname: str, autocommit: bool = True):
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname=dbname,
        autocommit=autocommit,
        cursor_factory=psycopg.ClientCursor,  # as Django: parameters inlined client-side
    )


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))
