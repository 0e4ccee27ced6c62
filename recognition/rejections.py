"""Rejected matches: pairs of faces a reviewer marked as different people.

Every recognition path asks this module what to leave out: matching (never store the pair as a
match again), clustering (never put the two in one cluster) and predictions (never propose the
subject of one face for the other). Pairs are stored once, ``face_a < face_b``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from images.models import Face
from recognition.models import Rejection

FaceId = uuid.UUID


def ordered(a: FaceId, b: FaceId) -> tuple[FaceId, FaceId]:
    """The stored order of a pair (the table's check constraint: face_a < face_b)."""
    a, b = uuid.UUID(str(a)), uuid.UUID(str(b))
    return (a, b) if str(a) < str(b) else (b, a)


def record(application_id, a: FaceId, b: FaceId, source: str = "") -> tuple[Rejection, bool]:
    """Store that ``a`` and ``b`` are different people; (row, created)."""
    face_a, face_b = ordered(a, b)
    return Rejection.objects.get_or_create(
        face_a_id=face_a, face_b_id=face_b, defaults={"application_id": application_id, "source": source}
    )


def partners(face_ids: Iterable[FaceId]) -> dict[FaceId, set[FaceId]]:
    """For each face, the faces it was marked different from (one query)."""
    ids = [uuid.UUID(str(f)) for f in face_ids]
    out: dict[FaceId, set[FaceId]] = defaultdict(set)
    if not ids:
        return out
    rows = Rejection.objects.filter(Q(face_a_id__in=ids) | Q(face_b_id__in=ids)).values_list(
        "face_a_id", "face_b_id"
    )
    wanted = set(ids)
    for a, b in rows:
        if a in wanted:
            out[a].add(b)
        if b in wanted:
            out[b].add(a)
    return out


def partners_of(face_id: FaceId) -> set[FaceId]:
    return partners([face_id]).get(uuid.UUID(str(face_id)), set())


def subjects_of(face_ids: Iterable[FaceId]) -> set[int]:
    ids = list(face_ids)
    if not ids:
        return set()
    return set(Face.objects.filter(pk__in=ids, subject__isnull=False).values_list("subject_id", flat=True))


def clusters_of(face_ids: Iterable[FaceId]) -> set[int]:
    ids = list(face_ids)
    if not ids:
        return set()
    return set(Face.objects.filter(pk__in=ids, cluster__isnull=False).values_list("cluster_id", flat=True))


def excluded_subjects(face_ids: Iterable[FaceId]) -> set[int]:
    """The subjects whose faces were marked different from any of ``face_ids``: never proposed."""
    return subjects_of(set().union(*partners(face_ids).values()))


def pairs_among(face_ids: Iterable[FaceId]) -> set[tuple[FaceId, FaceId]]:
    """The rejected pairs with both faces in ``face_ids`` (stored order)."""
    ids = [uuid.UUID(str(f)) for f in face_ids]
    if len(ids) < 2:
        return set()
    return set(
        Rejection.objects.filter(face_a_id__in=ids, face_b_id__in=ids).values_list("face_a_id", "face_b_id")
    )


def clear_within_subject(subject_id: int) -> int:
    """Delete the rejections a reviewer overruled by putting both faces into one subject."""
    deleted, _ = Rejection.objects.filter(
        face_a__subject_id=subject_id, face_b__subject_id=subject_id
    ).delete()
    return deleted


def clear_within_cluster(cluster_id: int) -> int:
    """Delete the rejections a reviewer overruled by merging both faces into one cluster."""
    deleted, _ = Rejection.objects.filter(
        face_a__cluster_id=cluster_id, face_b__cluster_id=cluster_id
    ).delete()
    return deleted
