"""Who is this face? The nearest subjects of each face, each with the quality-aware verdict of
recognition.decisions, as stored in ``Image.result`` and shown to reviewers.

Subjects are ranked by the distance to their **template**, the unit mean of their usable examples'
embeddings (``facecore.quality.subject_template``: several examples of a person help, not just the
nearest one). The nearest subject is a ``match`` only within the identification edge **and** clearly
nearer than the runner-up subject (``MatchRule.identify``); else the face is ``unknown`` and the
candidates are still listed, each with its verdict (``uncertain`` when the face or the examples are
too poor to decide, the distance falls in the band between the edges, or another subject is nearly
as near: ``ambiguous_subject``). A subject is never proposed for a face that was marked different
from one of its faces (recognition.rejections); examples below the quality floor are never used."""

from __future__ import annotations

import numpy as np
from django.conf import settings

from facecore.quality import subject_template
from images.models import Face, Image, ImagePurpose
from recognition import decisions, rejections
from recognition.models_info import model_info
from recognition.search import nearest
from recognition.serializers import RecognitionSerializer

DEFAULT_PREDICTION_COUNT = 1
CANDIDATES_PER_PREDICTION = 10
"""Nearest example faces fetched per wanted subject (a subject usually has several examples)."""
CANDIDATE_SUBJECTS = 2
"""Subjects (by nearest example) whose templates are compared, beyond the ``prediction_count`` asked."""


def templates(face: Face, subject_ids: list[int]) -> dict[int, tuple[str, np.ndarray, float]]:
    """``{subject_id: (name, template, mean quality)}`` from the subjects' usable examples of ``face.model``."""
    rows = (
        Face.objects.filter(
            application_id=face.application_id,
            subject_id__in=subject_ids,
            model=face.model,
            embedding__isnull=False,
        )
        .exclude(pk=face.pk)
        .values_list("subject_id", "subject__name", "embedding", "quality")
    )
    names: dict[int, str] = {}
    vectors: dict[int, list] = {}
    qualities: dict[int, list[float]] = {}
    for sid, name, embedding, quality in rows:
        if decisions.usable(face.model, quality):
            names[sid] = name
            vectors.setdefault(sid, []).append(np.asarray(embedding, dtype=np.float32))
            qualities.setdefault(sid, []).append(decisions.quality_score(quality))
    return {
        sid: (names[sid], subject_template(np.stack(v)), float(np.mean(qualities[sid])))
        for sid, v in vectors.items()
    }


def subject_predictions(face: Face, prediction_count: int) -> list[dict]:
    """The ``prediction_count`` nearest subjects by template, nearest first.

    The face's own subject (when it has one) counts like any other; subjects excluded by a
    rejected match are left out.
    """
    if face.embedding is None or not face.model or prediction_count <= 0:
        return []
    info = model_info(face.model)
    k = max(20, prediction_count * CANDIDATES_PER_PREDICTION)
    excluded = rejections.excluded_subjects([face.id])
    search = {"k": k, "scope": "subjects", "exclude_face_ids": [face.id]}
    found = nearest(face.application_id, face.model, face.embedding, exclude_subject_ids=excluded, **search)
    candidates = list(dict.fromkeys(n.subject_id for n in found if decisions.usable(face.model, n.quality)))[
        : prediction_count + CANDIDATE_SUBJECTS
    ]
    if len(candidates) == 1:  # the runner-up subject lies beyond the first subject's examples
        search["k"] = 5
        more = nearest(
            face.application_id,
            face.model,
            face.embedding,
            exclude_subject_ids=[*excluded, *candidates],
            **search,
        )
        candidates += [n.subject_id for n in more if decisions.usable(face.model, n.quality)][:1]
    probe = np.asarray(face.embedding, dtype=np.float32)
    names: dict[int, str] = {}
    scored: dict[int, tuple[float, float]] = {}
    for sid, (name, template, quality) in templates(face, candidates).items():
        names[sid] = name
        scored[sid] = (float(np.linalg.norm(probe - template)), quality)
    ranked = sorted(scored.items(), key=lambda item: item[1][0])
    out = []
    for index, (sid, (distance, example_quality)) in enumerate(ranked[:prediction_count]):
        if sid not in names:
            continue
        others = [d for j, (_, (d, _q)) in enumerate(ranked) if j != index]
        decision = decisions.identify(
            face.model, distance, face.quality, example_quality, min(others) if others else None
        )
        out.append(
            {
                "subject": names[sid],
                "similarity": round(info.similarity(distance), 5),
                "distance": round(distance, 5),
                "verdict": decision.verdict,
                "reason": decision.reason,
            }
        )
    return out


def recognized(face: Face, predictions: list[dict]) -> dict:
    """The face's answer: its subject when the best candidate is a match, else unknown with why."""
    best = predictions[0] if predictions else None
    if best is not None and best["verdict"] == "match":
        return {"subject": best["subject"], "unknown": False, "verdict": "match", "reason": None}
    if face.model and not decisions.usable(face.model, face.quality):
        return {"subject": None, "unknown": True, "verdict": "uncertain", "reason": "low_quality"}
    if best is not None and best["verdict"] == "uncertain":
        return {"subject": None, "unknown": True, "verdict": "uncertain", "reason": best["reason"]}
    return {"subject": None, "unknown": True, "verdict": "no_match", "reason": None}


def det_prob_threshold_of(image: Image) -> float:
    value = (image.options or {}).get("det_prob_threshold")
    return float(value) if value is not None else settings.FACECORE_ENGINE.det_prob_threshold


def recognition_result(image: Image, faces: list[Face]) -> dict:
    """``{"model", "threshold", "det_prob_threshold", "prediction_count", "faces": [face + "subjects"]}``."""
    options = image.options or {}
    count = int(options.get("prediction_count") or DEFAULT_PREDICTION_COUNT)
    model = next((f.model for f in faces if f.model), None)
    for face in faces:
        face.predictions = subject_predictions(face, count)
        face.recognized = recognized(face, face.predictions)
    result = {
        "model": model,
        "threshold": model_info(model).threshold if model else None,
        "det_prob_threshold": det_prob_threshold_of(image),
        "prediction_count": count,
        "faces": faces,
    }
    # Probe faces are deleted after the answer: no face_id to refer to.
    context = {"face_ids": image.purpose != ImagePurpose.PROBE}
    return RecognitionSerializer(result, context=context).data
