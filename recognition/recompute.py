"""Matches and suggested people again from scratch, after the active model changed.

A model migration (images.migration) swaps every face's embedding; the stored matches and
clusters were computed with the old model's distances. Per application, under its recognition
lock, the matches and clusters are dropped and rebuilt by the same code that places new faces,
image by image in upload order. Subjects (named people, their examples) and reviewers'
rejections do not depend on the model and stay; merged or split suggestions are recomputed.
"""

from __future__ import annotations

import logging
from itertools import groupby

from django.db import transaction

from images.models import Face, ImagePurpose
from recognition.clustering import cluster_faces, lock_application
from recognition.matching import store_matches
from recognition.models import Cluster, Match

log = logging.getLogger(__name__)


def recompute_application(application_id, model: str) -> tuple[int, int]:
    """Rebuild one application's matches and clusters; returns (match rows, clusters)."""
    with transaction.atomic():
        lock_application(application_id)
        Match.objects.filter(application_id=application_id).delete()
        Face.objects.filter(application_id=application_id, cluster__isnull=False).update(cluster=None)
        Cluster.objects.filter(application_id=application_id).delete()
        faces = Face.objects.filter(
            application_id=application_id,
            image__purpose=ImagePurpose.JOB,
            embedding__isnull=False,
            model=model,
        ).order_by("image__created_at", "image_id")
        matches = 0
        for _, image_faces in groupby(faces.iterator(), key=lambda f: f.image_id):
            group = list(image_faces)
            matches += store_matches(group)
            # An earlier face may have pulled some of these into its new cluster already.
            clustered = set(
                Face.objects.filter(id__in=[f.id for f in group], cluster__isnull=False).values_list(
                    "id", flat=True
                )
            )
            cluster_faces([f for f in group if f.id not in clustered])
        return matches, Cluster.objects.filter(application_id=application_id).count()


def recompute(model: str) -> None:
    """Every application that has faces."""
    applications = Face.objects.values_list("application_id", flat=True).distinct().order_by()
    for application_id in applications:
        matches, clusters = recompute_application(application_id, model)
        log.info(
            "recomputed application %s with %s: %s match rows, %s clusters",
            application_id,
            model,
            matches,
            clusters,
        )
