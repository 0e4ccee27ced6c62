"""Review actions: what a person decides about faces, shared by the admin and the REST API.

* Confirming a match or assigning a face makes the face an example of the subject (it leaves
  its cluster). A reviewer's assignment overrules earlier rejections between faces that are now
  in one subject; those rejections are deleted and counted (``cleared_rejections``).
* Rejecting a match stores the pair as different people (recognition.rejections) and deletes
  the match; if both faces were in one cluster, the later one leaves it and is clustered again.
* Unassigning a face of an uploaded image makes it unnamed again and clusters it again.
* Clusters can be named (assigned to a new or existing subject), merged and split.

Every action runs in one transaction under the application's recognition lock, so it never
interleaves with a job placing new faces.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef

from images.models import Face, ImagePurpose
from infra.errors import ErrorCode, ServiceError
from recognition import rejections
from recognition.clustering import cluster_face, lock_application
from recognition.models import Cluster, Match, Subject
from tenants.models import Application


@dataclass
class Assigned:
    subject: Subject
    face_ids: list[uuid.UUID]
    cleared_rejections: int = 0


@dataclass
class Rejected:
    face_ids: list[uuid.UUID]
    moved_face_id: uuid.UUID | None = None
    """The face that left the cluster it shared with the other one (None when they did not)."""
    moved_to_cluster: int | None = None


@dataclass
class ClusterChange:
    cluster: Cluster
    face_ids: list[uuid.UUID] = field(default_factory=list)
    cleared_rejections: int = 0
    new_cluster: Cluster | None = None
    new_face_ids: list[uuid.UUID] = field(default_factory=list)


@contextmanager
def locked(app: Application):
    with transaction.atomic():
        lock_application(app.id)
        yield


def subject_named(app: Application, name: str) -> Subject:
    subject, _ = Subject.objects.get_or_create(application=app, name=name)
    return subject


def drop_empty_clusters(cluster_ids: Iterable[int | None]) -> None:
    ids = {c for c in cluster_ids if c is not None}
    if ids:
        Cluster.objects.filter(pk__in=ids).exclude(
            Exists(Face.objects.filter(cluster=OuterRef("pk")))
        ).delete()


def assign_faces(app: Application, faces: list[Face], subject: Subject) -> int:
    """Make ``faces`` examples of ``subject`` (caller holds the lock); returns cleared rejections."""
    if any(f.application_id != app.id for f in faces) or subject.application_id != app.id:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "Faces and subject must belong to one application.")
    clusters = {f.cluster_id for f in faces}
    Face.objects.filter(pk__in=[f.pk for f in faces]).update(subject=subject, cluster=None)
    for face in faces:
        face.subject, face.cluster_id = subject, None
    drop_empty_clusters(clusters)
    return rejections.clear_within_subject(subject.pk)


def assign_face(app: Application, face: Face, name: str) -> Assigned:
    with locked(app):
        subject = subject_named(app, name)
        cleared = assign_faces(app, [face], subject)
    return Assigned(subject, [face.id], cleared)


def unassign_faces(app: Application, faces: list[Face]) -> list[Face]:
    """Faces of uploaded images back to unnamed, then clustered again (caller holds the lock)."""
    examples = [f for f in faces if f.image.purpose == ImagePurpose.EXAMPLE]
    if examples:
        raise ServiceError(
            ErrorCode.EXAMPLE_FACE,
            f"Face {examples[0].id} is an example photo of its subject; delete it or assign it to "
            "another subject instead.",
        )
    named = [f for f in faces if f.subject_id is not None]
    Face.objects.filter(pk__in=[f.pk for f in named]).update(subject=None, cluster=None)
    for face in named:
        face.subject, face.subject_id, face.cluster_id = None, None, None
        cluster_face(face)
    return faces


def unassign_face(app: Application, face: Face) -> Face:
    with locked(app):
        unassign_faces(app, [face])
    return face


def pair_of(match: Match) -> tuple[Face, Face]:
    faces = {
        f.pk: f
        for f in Face.objects.select_related("subject", "image").filter(
            pk__in=[match.face_id, match.other_face_id]
        )
    }
    if len(faces) != 2:
        raise ServiceError(ErrorCode.MATCH_NOT_FOUND, f"No match {match.pk}.")
    return faces[match.face_id], faces[match.other_face_id]


def confirm_match(app: Application, match: Match, name: str | None = None) -> Assigned:
    """The two faces are the same person: both become examples of ``name`` or, without a name,
    of the subject one of them already has."""
    with locked(app):
        a, b = pair_of(match)
        if name:
            subject = subject_named(app, name)
        else:
            named = {f.subject_id for f in (a, b) if f.subject_id is not None}
            if not named:
                raise ServiceError(
                    ErrorCode.SUBJECT_REQUIRED,
                    "Neither face has a subject yet; give the 'subject' both are examples of.",
                )
            if len(named) > 1:
                raise ServiceError(
                    ErrorCode.SUBJECTS_DIFFER,
                    f"The faces are examples of {a.subject.name!r} and {b.subject.name!r}; merge the "
                    "subjects, or give the 'subject' both belong to.",
                )
            subject = a.subject if a.subject_id is not None else b.subject
        cleared = assign_faces(app, [a, b], subject)
    return Assigned(subject, [a.id, b.id], cleared)


def reject_match(app: Application, match: Match, source: str = "") -> Rejected:
    """The two faces of a match are different people (see ``reject_pair``)."""
    return reject_pair(app, *pair_of(match), source=source)


def reject_pair(app: Application, a: Face, b: Face, source: str = "") -> Rejected:
    """``a`` and ``b`` are different people: never matched or clustered together again, and the
    subject of one is never proposed for the other. Their matches are deleted; if they shared a
    cluster, the later face leaves it and is clustered again."""
    if a.pk == b.pk:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "A face cannot be marked different from itself.")
    with locked(app):
        a, b = (Face.objects.select_related("subject", "image").get(pk=f.pk) for f in (a, b))
        if a.application_id != app.id or b.application_id != app.id:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "Both faces must belong to the application.")
        if a.subject_id is not None and a.subject_id == b.subject_id:
            raise ServiceError(
                ErrorCode.SAME_SUBJECT,
                f"Both faces are examples of {a.subject.name!r}; unassign the wrong one first.",
            )
        rejections.record(app.id, a.id, b.id, source)
        Match.objects.filter(face_id=a.id, other_face_id=b.id).delete()
        Match.objects.filter(face_id=b.id, other_face_id=a.id).delete()
        outcome = Rejected([a.id, b.id])
        if a.cluster_id is not None and a.cluster_id == b.cluster_id:
            later = max((a, b), key=lambda f: (f.created_at, str(f.id)))
            Face.objects.filter(pk=later.pk).update(cluster=None)
            later.cluster_id = None
            outcome.moved_face_id = later.id
            outcome.moved_to_cluster = cluster_face(later)
    return outcome


def name_cluster(app: Application, cluster: Cluster, name: str) -> Assigned:
    """Turn a suggested person into examples of subject ``name`` (created when missing)."""
    with locked(app):
        subject = subject_named(app, name)
        faces = list(cluster.faces.all())
        cleared = assign_faces(app, faces, subject)
        Cluster.objects.filter(pk=cluster.pk).delete()
    return Assigned(subject, [f.id for f in faces], cleared)


def merge_clusters(app: Application, target: Cluster, others: list[Cluster]) -> ClusterChange:
    """Move the faces of ``others`` into ``target`` and delete them."""
    with locked(app):
        ids = [c.pk for c in others if c.pk != target.pk]
        Face.objects.filter(application=app, cluster_id__in=ids).update(cluster=target)
        Cluster.objects.filter(application=app, pk__in=ids).delete()
        target.save(update_fields=["updated_at"])
        cleared = rejections.clear_within_cluster(target.pk)
        faces = list(target.faces.values_list("id", flat=True))
    return ClusterChange(target, faces, cleared)


def split_cluster(app: Application, cluster: Cluster, face_ids: list[uuid.UUID]) -> ClusterChange:
    """Move ``face_ids`` (of ``cluster``) into a new cluster of their own."""
    with locked(app):
        members = set(cluster.faces.values_list("id", flat=True))
        wanted = {uuid.UUID(str(f)) for f in face_ids}
        missing = wanted - members
        if missing:
            raise ServiceError(
                ErrorCode.FACE_NOT_FOUND,
                f"Face {sorted(map(str, missing))[0]} is not in cluster {cluster.pk}.",
            )
        if not wanted:
            raise ServiceError(
                ErrorCode.INVALID_REQUEST, "'face_ids' must name at least one face of the cluster."
            )
        if wanted == members:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "Leave at least one face in the cluster.")
        new = Cluster.objects.create(application=app)
        Face.objects.filter(pk__in=wanted).update(cluster=new)
        cluster.save(update_fields=["updated_at"])
    return ClusterChange(
        cluster, sorted(members - wanted, key=str), new_cluster=new, new_face_ids=sorted(wanted, key=str)
    )
