"""JSON shapes of the recognition endpoints."""

from __future__ import annotations

from api.models import Cluster, Face, Match


def example_json(face: Face) -> dict:
    return {
        "face_id": str(face.id),
        "subject": face.subject.name if face.subject_id else None,
        "image_id": str(face.image_id),
        "model": face.model or None,
        "created_at": face.created_at.isoformat().replace("+00:00", "Z"),
    }


def cluster_json(cluster: Cluster, face_ids: list[str]) -> dict:
    return {
        "cluster_id": cluster.id,
        "face_count": len(face_ids),
        "face_ids": face_ids,
        "created_at": cluster.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": cluster.updated_at.isoformat().replace("+00:00", "Z"),
    }


def match_json(match: Match) -> dict:
    other = match.other_face
    return {
        "face_id": str(other.id),
        "image_id": str(other.image_id),
        "box": other.box(),
        "distance": round(match.distance, 5),
        "similarity": round(match.similarity, 5),
    }
