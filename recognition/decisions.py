"""Same person or not: the quality-aware rule of facecore.quality (MATCH_RULES), applied to
stored faces. Every decision of recognition goes through here: recognize answers (``identify``:
the nearest subject's template, with the runner-up subject's distance), verify answers
(``decide(..., purpose="verify")``), stored matches and cluster membership (``decide``, the strict
``search`` edges), "known" faces and accepted examples.

A pair is judged by the worse of its two faces' quality scores: below the floor it is
``uncertain`` (never a match), the fair tier's edges are never looser than the good tier's, and between the match
and no-match edges it is ``uncertain`` too. So a small, blurred or turned face is reported as
such instead of being matched to whoever its "average face" embedding lands near. The edges and
the false-accept rates they were fitted to are in docs/models.md (``bench/lfw.py`` refits them).
"""

from __future__ import annotations

from facecore.quality import MATCH_RULES, Decision, MatchRule
from images.models import Face
from recognition.models_info import model_info

UNKNOWN_QUALITY = 0.49
"""Faces stored before quality was measured are judged in the fair tier (its edges, never looser than the good tier's)."""


def quality_score(value: Face | dict | float | None) -> float:
    """A face's quality score in [0, 1] from a Face, its ``quality`` dict or a score."""
    if isinstance(value, Face):
        value = value.quality
    if isinstance(value, dict):
        value = value.get("score")
    return UNKNOWN_QUALITY if value is None else float(value)


def rule(model: str) -> MatchRule:
    return MATCH_RULES[model]


def decide(model: str, distance: float, quality_a, quality_b, purpose: str = "search") -> Decision:
    """The verdict for two faces of ``model`` at L2 ``distance``: ``search`` (a face against an
    application's faces: matches, clusters) or ``verify`` (one pair a caller asked about)."""
    return rule(model).decide(
        distance,
        model_info(model).threshold,
        quality_score(quality_a),
        quality_score(quality_b),
        purpose=purpose,
    )


def identify(model: str, distance: float, quality_a, quality_b, runner_up: float | None) -> Decision:
    """The verdict for the nearest subject of a gallery at L2 ``distance`` (to its template);
    ``runner_up``: the next subject's distance (None when there is none)."""
    return rule(model).identify(
        distance, model_info(model).threshold, quality_score(quality_a), quality_score(quality_b), runner_up
    )


def is_match(model: str, distance: float, quality_a, quality_b) -> bool:
    return decide(model, distance, quality_a, quality_b).verdict == "match"


def usable(model: str, quality) -> bool:
    """At or above the quality floor: the face can be decided at all."""
    return quality_score(quality) >= rule(model).quality_floor


def can_seed(model: str, quality) -> bool:
    """Good enough to found a cluster or to be an example (the good tier)."""
    return quality_score(quality) >= rule(model).good_quality


def widest_match(model: str) -> float:
    """The largest L2 distance any pair of ``model`` can match at (a search radius)."""
    r = rule(model)
    return max(r.accept_good, r.accept_fair) * model_info(model).threshold
