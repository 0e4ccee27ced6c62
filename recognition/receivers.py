"""Recognition's subscriptions to the image pipeline (connected in RecognitionConfig.ready)."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from images.models import Face, Image, ImagePurpose, ModelMigration
from images.signals import active_model_changed, faces_stored
from recognition import bulk
from recognition.clustering import cluster_faces, lock_application
from recognition.matching import store_matches
from recognition.predictions import recognition_result
from recognition.recompute import recompute


@receiver(faces_stored, sender=Image, dispatch_uid="recognition.faces_stored")
def match_cluster_and_recognize(sender, image: Image, faces: list[Face], **kwargs) -> None:
    """Job images get their matches and cluster placement; with option ``recognize`` (jobs and
    probes) the predictions go to ``image.result["recognition"]``, which the pipeline saves.
    Example and probe faces never take part in matches or clusters."""
    faces = [face for face in faces if face.embedding is not None and face.model]
    with transaction.atomic():
        if image.purpose == ImagePurpose.JOB and faces:
            lock_application(image.application_id)
            store_matches(faces)
            cluster_faces(faces)
        if (image.options or {}).get("recognize"):
            image.result = {**(image.result or {}), "recognition": recognition_result(image, faces)}


@receiver(active_model_changed, sender=ModelMigration, dispatch_uid="recognition.active_model_changed")
def recompute_matches_and_clusters(sender, model: str, **kwargs) -> None:
    """Every face now has ``model``'s embedding: matches and clusters again with its distances."""
    recompute(model)


@receiver(faces_stored, sender=Image, dispatch_uid="recognition.bulk_enrol")
def enrol_imported_example(sender, image: Image, faces: list[Face], **kwargs) -> None:
    """An example image of a bulk import (option ``enrol``): enrol its face or refuse it."""
    bulk.enrol_processed(image, faces)
