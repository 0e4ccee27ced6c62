"""Suggested people: unnamed faces grouped incrementally as they arrive.

In the spirit of Immich's face grouping (density based, one face at a time):

* a face that matches a subject (nearest example within the model's threshold) is known and
  is not clustered;
* otherwise its neighbours are the unnamed job faces of *other* images within the threshold;
* if at least ``FACECORE_CLUSTER_MIN_AGREE`` neighbours belong to one cluster, the face joins
  the cluster with the most such neighbours;
* else, if the face and its unclustered neighbours come from at least
  ``FACECORE_CLUSTER_MIN_FACES`` different images, they form a new cluster together;
* else the face waits unclustered; a later face can pull it into a new cluster.

Callers hold the application's advisory lock (``lock_application``) so concurrent workers do
not create two clusters for the same person.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.db import connection
from django.utils import timezone

from images.models import Face
from recognition.models import Cluster
from recognition.models_info import model_info
from recognition.search import nearest

NEIGHBOURS = 30


def lock_application(application_id) -> None:
    """Serialize matching/clustering per application until the current transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"facecore-recognition:{application_id}"]
        )


def is_known(face: Face) -> bool:
    info = model_info(face.model)
    hits = nearest(
        face.application_id, face.model, face.embedding, k=1, scope="subjects", max_distance=info.threshold
    )
    return bool(hits)


def cluster_face(face: Face) -> int | None:
    """Place one new face; returns its cluster id (None when it stays unclustered)."""
    if face.embedding is None or not face.model or face.subject_id is not None or is_known(face):
        return None
    info = model_info(face.model)
    neighbours = nearest(
        face.application_id,
        face.model,
        face.embedding,
        k=NEIGHBOURS,
        scope="unnamed_jobs",
        max_distance=info.threshold,
        exclude_image_id=face.image_id,
    )
    votes = Counter(n.cluster_id for n in neighbours if n.cluster_id is not None)
    if votes:
        cluster_id, count = votes.most_common(1)[0]
        if count >= settings.FACECORE_CLUSTER_MIN_AGREE:
            Face.objects.filter(pk=face.pk).update(cluster_id=cluster_id)
            Cluster.objects.filter(pk=cluster_id).update(updated_at=timezone.now())
            face.cluster_id = cluster_id
            return cluster_id
    nearest_per_image: dict = {}
    for n in neighbours:
        if n.cluster_id is None and n.image_id not in nearest_per_image:
            nearest_per_image[n.image_id] = n.face_id
    if 1 + len(nearest_per_image) < settings.FACECORE_CLUSTER_MIN_FACES:
        return None
    cluster = Cluster.objects.create(application_id=face.application_id)
    Face.objects.filter(pk__in=[face.pk, *nearest_per_image.values()]).update(cluster=cluster)
    face.cluster_id = cluster.id
    return cluster.id


def cluster_faces(faces: list[Face]) -> list[int | None]:
    return [cluster_face(face) for face in faces]
