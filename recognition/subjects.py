"""Subjects (named people) and their example faces: create, rename/merge, delete, enrol.

Deleting a subject deletes only the example photos uploaded for it; faces of uploaded images
(jobs) that were assigned to it stay, unnamed again, and are clustered again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from facecore.draw import face_crop
from facecore.quality import FaceSummary, dominant_face
from images.models import Face, Image, ImagePurpose
from infra.errors import ErrorCode, ServiceError, storage_unavailable
from infra.storage import ObjectNotFound, StorageUnavailable, crop_key, get_store
from recognition import decisions, rejections
from recognition.clustering import cluster_face, lock_application
from recognition.models import Subject
from tenants.models import Application

MAX_NAME = 200


def clean_name(value, field: str = "subject") -> str:
    """A subject name: 1-200 characters after trimming, no '/', no control characters (NUL...)."""
    if not isinstance(value, str) or not value.strip():
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{field}' must be a non-empty string.")
    name = value.strip()
    if len(name) > MAX_NAME or "/" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ServiceError(
            ErrorCode.INVALID_SUBJECT,
            f"'{field}' must be at most {MAX_NAME} characters, without '/' or control characters.",
        )
    return name


def get_subject(app: Application, name: str) -> Subject:
    subject = Subject.objects.filter(application=app, name=clean_name(name)).first()
    if subject is None:
        raise ServiceError(ErrorCode.SUBJECT_NOT_FOUND, f"No subject {name!r}.")
    return subject


def resolve_name(app: Application, name: str) -> str:
    """The stored spelling of a subject named ``name`` ignoring case, else ``name`` itself
    (CompreFace looks subjects up case-insensitively; facecore's own API does not)."""
    stored = (
        Subject.objects.filter(application=app, name__iexact=name)
        .order_by("name")
        .values_list("name", flat=True)
    )
    names = list(stored)
    return name if name in names or not names else names[0]


def get_face(app: Application, face_id: object, examples_only: bool = False) -> Face:
    """The application's face of a job or example image (probes are not addressable);
    ``examples_only``: a subject's face. ServiceError ``face_not_found`` otherwise."""
    message = f"No face {face_id!r}."
    try:
        pk = uuid.UUID(str(face_id))
    except ValueError as exc:
        raise ServiceError(ErrorCode.FACE_NOT_FOUND, message) from exc
    faces = (
        Face.objects.select_related("subject", "image")
        .filter(pk=pk, application=app)
        .exclude(image__purpose=ImagePurpose.PROBE)
    )
    if examples_only:
        faces = faces.filter(subject__isnull=False)
    face = faces.first()
    if face is None:
        raise ServiceError(ErrorCode.FACE_NOT_FOUND, message)
    return face


def example_page(app: Application, name: str | None, page: int, size: int) -> tuple[list[Face], int]:
    """One page of the subjects' faces (examples), by subject name then age; (faces, total)."""
    faces = Face.objects.filter(application=app, subject__isnull=False).select_related("subject")
    if name:
        faces = faces.filter(subject__name=clean_name(name))
    total = faces.count()
    rows = faces.order_by("subject__name", "created_at", "id")[page * size : (page + 1) * size]
    return list(rows), total


def create_subject(app: Application, name: str) -> Subject:
    try:
        with transaction.atomic():
            return Subject.objects.create(application=app, name=name)
    except IntegrityError as exc:
        raise ServiceError(ErrorCode.SUBJECT_EXISTS, f"Subject {name!r} already exists.") from exc


def rename_subject(app: Application, old: str, new: str) -> tuple[Subject, bool, int]:
    """Rename ``old`` to ``new``; when ``new`` exists, move old's faces there (merge).

    -> (subject, merged, cleared rejections: pairs marked different that now share the subject)
    """
    with transaction.atomic():
        lock_application(app.id)
        subject = get_subject(app, old)
        if old == new:
            return subject, False, 0
        target = Subject.objects.select_for_update().filter(application=app, name=new).first()
        if target is None:
            subject.name = new
            subject.save(update_fields=["name"])
            return subject, False, 0
        Face.objects.filter(subject=subject).update(subject=target)
        subject.delete()
        return target, True, rejections.clear_within_subject(target.pk)


def merge_subjects(app: Application, sources: list[Subject], target: Subject) -> tuple[int, int]:
    """Move every face of ``sources`` to ``target`` and delete the sources; (faces moved, cleared rejections)."""
    with transaction.atomic():
        lock_application(app.id)
        ids = [s.pk for s in sources if s.pk != target.pk]
        moved = Face.objects.filter(application=app, subject_id__in=ids).update(subject=target)
        Subject.objects.filter(application=app, pk__in=ids).delete()
        return moved, rejections.clear_within_subject(target.pk)


def _delete_objects(faces: list[Face], example_images: list[Image]) -> None:
    """The faces' crops and the example images' objects; 503 (nothing deleted) when the store is down."""
    store = get_store()
    try:
        for face in faces:
            store.delete(crop_key(face.id))
        for image in example_images:
            for key in image.stored_object_keys():
                store.delete(key)
    except StorageUnavailable as exc:
        raise storage_unavailable() from exc


def delete_faces(faces: list[Face]) -> int:
    """Delete faces with their embeddings and crops; an example image goes with its face.

    Objects are deleted first: if the store is down nothing is deleted (503).
    """
    example_images = list(
        {f.image_id: f.image for f in faces if f.image.purpose == ImagePurpose.EXAMPLE}.values()
    )
    _delete_objects(faces, example_images)
    with transaction.atomic():
        Face.objects.filter(pk__in=[f.pk for f in faces]).delete()
        Image.objects.filter(pk__in=[i.pk for i in example_images]).delete()
    return len(faces)


@dataclass
class SubjectDeletion:
    subject: str
    deleted_faces: int
    """Example photos' faces: deleted with their photos (uploaded for this subject)."""
    unassigned_faces: int
    """Faces of uploaded images (jobs): they stay, unnamed again, and are clustered again."""


def delete_subject(subject: Subject) -> SubjectDeletion:
    """Delete a subject: its example photos go (faces, embeddings, crops, originals); the faces of
    uploaded images it was assigned stay, back to unnamed, and are clustered again."""
    faces = list(Face.objects.filter(subject=subject).select_related("image"))
    examples = [f for f in faces if f.image.purpose == ImagePurpose.EXAMPLE]
    kept = [f for f in faces if f.image.purpose != ImagePurpose.EXAMPLE]
    example_images = list({f.image_id: f.image for f in examples}.values())
    _delete_objects(examples, example_images)
    with transaction.atomic():
        lock_application(subject.application_id)
        Face.objects.filter(pk__in=[f.pk for f in examples]).delete()
        Image.objects.filter(pk__in=[i.pk for i in example_images]).delete()
        Face.objects.filter(pk__in=[f.pk for f in kept]).update(subject=None, cluster=None)
        name = subject.name
        subject.delete()
        for face in kept:
            face.subject_id, face.cluster_id = None, None
            cluster_face(face)
    return SubjectDeletion(name, len(examples), len(kept))


def delete_all_subjects(app: Application) -> int:
    """Delete every subject with its faces; returns the number of subjects."""
    subjects = list(Subject.objects.filter(application=app))
    for subject in subjects:
        delete_subject(subject)
    return len(subjects)


def delete_examples(subject: Subject) -> int:
    """Delete a subject's example photos (faces, embeddings, crops, originals) and keep the
    subject, as CompreFace's "delete all examples of a subject" does; faces of uploaded images
    assigned to it stay assigned. Returns the number of examples deleted."""
    examples = list(
        Face.objects.filter(subject=subject, image__purpose=ImagePurpose.EXAMPLE).select_related("image")
    )
    return delete_faces(examples) if examples else 0


def delete_all_examples(app: Application) -> int:
    """Delete every subject's example photos, keeping the subjects; returns the number deleted."""
    return sum(delete_examples(subject) for subject in Subject.objects.filter(application=app))


def dominant_example_face(faces: list[Face]) -> Face | None:
    """The face an example photo with several usable faces clearly shows (much taller, sharp,
    central: ``facecore.quality.dominant_face``), else None."""
    if not faces or not faces[0].model:
        return None
    image = faces[0].image
    if not image.width or not image.height:
        return None
    rule = decisions.rule(faces[0].model)
    summaries = [
        FaceSummary(f.x_min, f.y_min, f.x_max, f.y_max, decisions.quality_score(f.quality)) for f in faces
    ]
    pick = dominant_face(summaries, image.width, image.height, rule.quality_floor, rule.good_quality)
    return None if pick is None else faces[pick]


def example_face(faces: list[Face], force: bool = False) -> Face:
    """The one face an example photo may give: refused (ServiceError) with ``no_face``,
    ``more_than_one_face``, or ``low_quality_face`` and its reasons unless ``force``.

    A face below the quality floor (too small, blurred, dark...) could never be matched. So it
    is not "a second person" either: a portrait with a blurred face far in the background (or a
    detector's false positive) gives its one usable face. Of two or more usable faces, one that
    clearly dominates (much taller, sharp, central: a news photo with someone behind) is taken,
    and ``face.example_note`` says so; otherwise the photo stays ambiguous (``more_than_one_face``).
    """
    if not faces:
        raise ServiceError(
            ErrorCode.NO_FACE, "No face found above det_prob_threshold; an example needs exactly one face."
        )
    if len(faces) > 1:
        usable = [face for face in faces if decisions.usable(face.model, face.quality)]
        if len(usable) > 1:
            dominant = dominant_example_face(faces)
            if dominant is None:
                raise ServiceError(
                    ErrorCode.MORE_THAN_ONE_FACE,
                    f"{len(usable)} faces found above det_prob_threshold and none clearly dominates; an "
                    "example needs exactly one face (or one much larger, sharp, central face).",
                )
            dominant.example_note = (
                f"dominant_face: {len(usable)} usable faces; enrolled the much larger, sharp, central one"
            )
            usable = [dominant]
        if not usable:
            raise ServiceError(
                ErrorCode.MORE_THAN_ONE_FACE,
                f"{len(faces)} faces found above det_prob_threshold; an example needs exactly one face.",
            )
        faces = usable
    face = faces[0]
    if not force and not decisions.usable(face.model, face.quality):
        reasons = (face.quality or {}).get("reasons") or []
        raise ServiceError(
            ErrorCode.LOW_QUALITY_FACE,
            f"The face is too poor to be an example ({', '.join(reasons) or 'low quality'}): send a larger, "
            "sharper, frontal, well-lit photo, or add it anyway with force=true.",
            details={"quality": decisions.quality_score(face), "reasons": reasons},
        )
    return face


def assign_example(app: Application, name: str, face: Face) -> Subject:
    """Make ``face`` an example of subject ``name`` (created when missing). Other faces of the
    example photo (background faces ``example_face`` passed over) are deleted: an example photo
    holds its subject's face only."""
    with transaction.atomic():
        subject, _ = Subject.objects.get_or_create(application=app, name=name)
        others = Face.objects.filter(image_id=face.image_id).exclude(pk=face.pk)
        stale_crops = [crop_key(other_id) for other_id in others.values_list("id", flat=True)]
        others.delete()
        if stale_crops:
            transaction.on_commit(lambda: _delete_crops(stale_crops))
        face.subject = subject
        face.cluster = None
        face.save(update_fields=["subject", "cluster"])
    return subject


def _delete_crops(keys: list[str]) -> None:
    """Best effort: a crop left behind by a store fault only costs space."""
    store = get_store()
    for key in keys:
        try:
            store.delete(key)
        except StorageUnavailable:
            return


def enrol(app: Application, name: str, image: Image, data: bytes, force: bool = False) -> Face:
    """Make the single face of a processed example ``image`` an example of subject ``name``
    (the rules of ``example_face``)."""
    face = example_face(list(image.faces.all()), force=force)
    store_crop(face, data)
    assign_example(app, name, face)
    return face


def store_crop(face: Face, data: bytes) -> bytes:
    jpeg = face_crop(data, face.as_engine_face())
    try:
        get_store().put(crop_key(face.id), jpeg, "image/jpeg")
    except StorageUnavailable as exc:
        raise storage_unavailable() from exc
    return jpeg


def face_crop_jpeg(face: Face) -> bytes:
    """The face's cached crop, made from the original and cached when missing.

    Raises ObjectNotFound when neither exists (original deleted), StorageUnavailable on faults.
    """
    store = get_store()
    try:
        return store.get(crop_key(face.id))
    except ObjectNotFound:
        if face.image.original_deleted:
            raise
        return store_crop(face, store.get(face.image.object_key))


def example_image(face: Face) -> tuple[bytes, str]:
    """The photo a face was found in as it was uploaded, (bytes, content type); the face crop
    (JPEG) when the original is not kept. Raises ObjectNotFound / StorageUnavailable."""
    if not face.image.original_deleted:
        try:
            return get_store().get(face.image.object_key), face.image.content_type or "image/jpeg"
        except ObjectNotFound:
            pass
    return face_crop_jpeg(face), "image/jpeg"
