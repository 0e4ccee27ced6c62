"""The worker's entry point into recognition (called from worker.pipeline)."""

from __future__ import annotations

from django.db import transaction

from api.models import Image, ImagePurpose
from recognition.clustering import cluster_faces, lock_application
from recognition.matching import store_matches
from recognition.predictions import recognition_result


def on_faces_stored(image: Image) -> None:
    """Run after the worker stored ``image``'s faces, in the transaction that marks it done.

    Job images get their matches and cluster placement; with option ``recognize`` (jobs and
    probes) the predictions go to ``image.result["recognition"]``, which the caller saves.
    Example and probe faces never take part in matches or clusters.
    """
    faces = [face for face in image.faces.all() if face.embedding is not None and face.model]
    with transaction.atomic():
        if image.purpose == ImagePurpose.JOB and faces:
            lock_application(image.application_id)
            store_matches(faces)
            cluster_faces(faces)
        if (image.options or {}).get("recognize"):
            image.result = {**(image.result or {}), "recognition": recognition_result(image, faces)}
