"""Read queries of the review pages and endpoints, built so that a page costs a fixed number of
queries whatever its length (no query per row): annotations and subqueries instead of lookups
per face."""

from __future__ import annotations

from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from images.models import Face
from recognition.models import Cluster, Match, Subject

SAME_SUBJECT = Q(face__subject_id__isnull=False) & Q(face__subject_id=F("other_face__subject_id"))
"""A confirmed match: its two faces are examples of one subject."""
NOT_SAME_SUBJECT = (
    Q(face__subject_id__isnull=True)
    | Q(other_face__subject_id__isnull=True)
    | ~Q(face__subject_id=F("other_face__subject_id"))
)
"""A match still to review (written without CASE so the planner can use the indexes)."""


def match_pairs(queryset: QuerySet[Match] | None = None) -> QuerySet[Match]:
    """One row per pair (matches are stored both ways), with ``confirmed`` and both faces."""
    queryset = Match.objects.all() if queryset is None else queryset
    confirmed = Case(When(SAME_SUBJECT, then=Value(True)), default=Value(False), output_field=BooleanField())
    return (
        queryset.filter(face_id__lt=F("other_face_id"))
        .annotate(confirmed=confirmed)
        .select_related("face__subject", "face__image", "other_face__subject", "other_face__image")
    )


def with_status(pairs: QuerySet[Match], status: str) -> QuerySet[Match]:
    """``open`` (to review), ``confirmed`` or ``all``."""
    if status == "confirmed":
        return pairs.filter(SAME_SUBJECT)
    if status == "open":
        return pairs.filter(NOT_SAME_SUBJECT)
    return pairs


COUNT_CAP = 10_000
"""Long match lists are counted up to here (an exact count would cost more than the page)."""


def counted(queryset: QuerySet, cap: int | None = None) -> int:
    """``min(queryset.count(), cap)`` (default COUNT_CAP), reading at most ``cap`` rows."""
    return queryset.order_by()[: cap or COUNT_CAP].count()


def involving_face(face_id) -> Q:
    return Q(face_id=face_id) | Q(other_face_id=face_id)


def involving_image(image_id) -> Q:
    return Q(face__image_id=image_id) | Q(other_face__image_id=image_id)


def involving_subject(subject_id) -> Q:
    return Q(face__subject_id=subject_id) | Q(other_face__subject_id=subject_id)


def with_best_match(queryset: QuerySet[Face]) -> QuerySet[Face]:
    """Faces annotated with their nearest match: ``best_match_face_id``, ``best_match_similarity``."""
    best = Match.objects.filter(face=OuterRef("pk")).order_by("distance", "other_face_id")
    return queryset.annotate(
        best_match_face_id=Subquery(best.values("other_face_id")[:1]),
        best_match_similarity=Subquery(best.values("similarity")[:1]),
    )


def face_count(relation: str) -> Subquery:
    """The number of faces pointing at the outer row through ``relation`` (subject or cluster),
    counted per shown row only (a correlated subquery, not a GROUP BY over the whole table)."""
    counted = (
        Face.objects.filter(**{relation: OuterRef("pk")})
        .order_by()
        .values(relation)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def subjects_with_counts(queryset: QuerySet[Subject] | None = None) -> QuerySet[Subject]:
    queryset = Subject.objects.all() if queryset is None else queryset
    return queryset.annotate(face_count=face_count("subject"))


def clusters_with_counts(queryset: QuerySet[Cluster] | None = None) -> QuerySet[Cluster]:
    queryset = Cluster.objects.all() if queryset is None else queryset
    return queryset.annotate(face_count=face_count("cluster"))


SUGGESTIONS = 5


def face_review(face: Face, suggestions: int = SUGGESTIONS) -> Face:
    """Set what a reviewer sees on ``face``: ``ordered_matches`` (nearest first, with the other
    face), ``predictions`` (most similar subjects, respecting rejections), ``rejected_face_ids``."""
    from recognition import rejections
    from recognition.predictions import subject_predictions

    face.ordered_matches = list(
        Match.objects.filter(face=face)
        .select_related("other_face__subject", "other_face__image")
        .order_by("distance", "other_face_id")
    )
    face.predictions = subject_predictions(face, suggestions)
    face.rejected_face_ids = sorted(rejections.partners_of(face.id), key=str)
    return face
