"""Who is this face? The nearest subjects of each face, each with the quality-aware verdict of
recognition.decisions, as stored in ``Image.result`` and shown to reviewers.

A face is recognized (``subject``) only when its best candidate's verdict is ``match``; else it
is ``unknown`` and the candidates are still listed, each with its verdict (``uncertain`` when the
face or the example is too poor to decide, or the distance falls in the band between the edges).
A subject is never proposed for a face that was marked different from one of its faces
(recognition.rejections); examples below the quality floor are never used."""

from __future__ import annotations

from django.conf import settings

from images.models import Face, Image, ImagePurpose
from recognition import decisions, rejections
from recognition.models import Subject
from recognition.models_info import model_info
from recognition.search import nearest
from recognition.serializers import RecognitionSerializer

DEFAULT_PREDICTION_COUNT = 1
CANDIDATES_PER_PREDICTION = 10
"""Nearest example faces fetched per wanted subject (a subject usually has several examples)."""


def subject_predictions(face: Face, prediction_count: int) -> list[dict]:
    """The ``prediction_count`` most similar subjects, most similar first (best example each).

    The face's own subject (when it has one) counts like any other; subjects excluded by a
    rejected match are left out.
    """
    if face.embedding is None or not face.model or prediction_count <= 0:
        return []
    info = model_info(face.model)
    k = max(20, prediction_count * CANDIDATES_PER_PREDICTION)
    best: dict[int, tuple[float, float | None]] = {}
    excluded = rejections.excluded_subjects([face.id])
    found = nearest(
        face.application_id,
        face.model,
        face.embedding,
        k=k,
        scope="subjects",
        exclude_face_ids=[face.id],
        exclude_subject_ids=excluded,
    )
    for n in found:
        if n.subject_id not in best and decisions.usable(face.model, n.quality):
            best[n.subject_id] = (n.distance, n.quality)
    ranked = sorted(best.items(), key=lambda item: item[1][0])[:prediction_count]
    names = dict(Subject.objects.filter(id__in=[sid for sid, _ in ranked]).values_list("id", "name"))
    out = []
    for sid, (distance, example_quality) in ranked:
        if sid not in names:
            continue
        decision = decisions.decide(face.model, distance, face.quality, example_quality)
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
