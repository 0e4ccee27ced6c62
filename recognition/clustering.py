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

"Within the threshold" means the quality-aware rule says ``match`` (recognition.decisions):
a face below the quality floor is never clustered, and only good-tier faces found a cluster
(a fair face may join one), so a poor face never merges two people.

Rejected matches (recognition.rejections) are respected: a face is never placed in a cluster
that holds a face it was marked different from, never forms a cluster with such a face, and a
subject whose example it was marked different from does not make it "known".

Callers hold the application's advisory lock (``lock_application``) so concurrent workers do
not create two clusters for the same person.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.db import connection
from django.utils import timezone

from images.models import Face
from recognition import decisions, rejections
from recognition.models import Cluster
from recognition.search import Neighbour, nearest

NEIGHBOURS = 30


def lock_application(application_id) -> None:
    """Serialize matching/clustering per application until the current transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"facecore-recognition:{application_id}"]
        )


def is_known(face: Face, excluded_subjects: set[int] | None = None) -> bool:
    """One of its nearest examples (of a subject not excluded for it) is a match."""
    if excluded_subjects is None:
        excluded_subjects = rejections.excluded_subjects([face.id])
    hits = nearest(
        face.application_id,
        face.model,
        face.embedding,
        k=5,
        scope="subjects",
        max_distance=decisions.widest_match(face.model),
        exclude_subject_ids=excluded_subjects,
    )
    return any(decisions.is_match(face.model, n.distance, face.quality, n.quality) for n in hits)


def cluster_face(face: Face) -> int | None:
    """Place one face (new, or unassigned again); returns its cluster id (None: unclustered)."""
    if face.embedding is None or not face.model or face.subject_id is not None:
        return None
    if not decisions.usable(face.model, face.quality):
        return None
    different = rejections.partners_of(face.id)
    if is_known(face, rejections.subjects_of(different)):
        return None
    found = nearest(
        face.application_id,
        face.model,
        face.embedding,
        k=NEIGHBOURS,
        scope="unnamed_jobs",
        max_distance=decisions.widest_match(face.model),
        exclude_image_id=face.image_id,
        exclude_face_ids=different,
    )
    neighbours = [n for n in found if decisions.is_match(face.model, n.distance, face.quality, n.quality)]
    blocked = rejections.clusters_of(different)
    votes = Counter(
        n.cluster_id for n in neighbours if n.cluster_id is not None and n.cluster_id not in blocked
    )
    if votes:
        cluster_id, count = votes.most_common(1)[0]
        if count >= settings.FACECORE_CLUSTER_MIN_AGREE:
            Face.objects.filter(pk=face.pk).update(cluster_id=cluster_id)
            Cluster.objects.filter(pk=cluster_id).update(updated_at=timezone.now())
            face.cluster_id = cluster_id
            return cluster_id
    if not decisions.can_seed(face.model, face.quality):
        return None  # a fair face joins clusters but does not found one
    seeds = [n for n in neighbours if n.cluster_id is None and decisions.can_seed(face.model, n.quality)]
    members = new_cluster_members(seeds)
    if 1 + len(members) < settings.FACECORE_CLUSTER_MIN_FACES:
        return None
    cluster = Cluster.objects.create(application_id=face.application_id)
    Face.objects.filter(pk__in=[face.pk, *members]).update(cluster=cluster)
    face.cluster_id = cluster.id
    return cluster.id


def new_cluster_members(unclustered: list[Neighbour]) -> list:
    """The nearest unclustered neighbour of each other image, nearest first, leaving out any
    that was marked different from one already taken."""
    rejected = rejections.pairs_among(n.face_id for n in unclustered)
    taken: list = []
    images: set = set()
    for n in unclustered:
        if n.image_id in images:
            continue
        if any(rejections.ordered(n.face_id, t) in rejected for t in taken):
            continue
        images.add(n.image_id)
        taken.append(n.face_id)
    return taken


def cluster_faces(faces: list[Face]) -> list[int | None]:
    return [cluster_face(face) for face in faces]
