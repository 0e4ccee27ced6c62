"""Image matches: faces in other job images of the same application that are the same person.

Computed when a job's faces are stored and kept as ``Match`` rows in both directions, so an
earlier image also lists the faces of later ones. Pairs within the model's threshold are stored
with the quality-aware rule's verdict (recognition.decisions): ``match``, or ``uncertain`` when
the distance is in the band a person should look at; a face below the quality floor matches
nothing. Only ``match`` pairs cluster faces together. A pair a reviewer rejected is never stored again.
"""

from __future__ import annotations

from django.conf import settings

from images.models import Face
from recognition import decisions, rejections
from recognition.models import Match
from recognition.models_info import model_info
from recognition.search import nearest


def store_matches(faces: list[Face]) -> int:
    """Find and store the matches of ``faces`` (all from one job image); returns rows written."""
    rows: list[Match] = []
    rejected = rejections.partners(f.id for f in faces)
    for face in faces:
        if face.embedding is None or not face.model or not decisions.usable(face.model, face.quality):
            continue
        info = model_info(face.model)
        neighbours = nearest(
            face.application_id,
            face.model,
            face.embedding,
            k=settings.FACECORE_MATCH_LIMIT,
            scope="jobs",
            max_distance=info.threshold,
            exclude_image_id=face.image_id,
            exclude_face_ids=rejected.get(face.id, ()),
        )
        for n in neighbours:
            verdict = decisions.decide(face.model, n.distance, face.quality, n.quality).verdict
            if verdict == "no_match" or not decisions.usable(face.model, n.quality):
                continue
            similarity = info.similarity(n.distance)
            for a, b in ((face.id, n.face_id), (n.face_id, face.id)):
                rows.append(
                    Match(
                        application_id=face.application_id,
                        face_id=a,
                        other_face_id=b,
                        distance=n.distance,
                        similarity=similarity,
                        verdict=verdict,
                    )
                )
    Match.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
