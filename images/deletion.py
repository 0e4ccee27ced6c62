"""Deleting an image, and saying what went with it.

The image's stored objects (original, preview, its faces' crops) are deleted first: when the
store is down nothing is deleted (503) and the caller can try again. Then the image row goes
with its faces, embeddings, matches and webhook attempts. The report names the subjects that
lost examples (``Face.subject`` is recognition's column; it is read here by name only), so a
caller never shrinks a subject without being told.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count

from images.models import Face, Image
from infra.errors import storage_unavailable
from infra.storage import StorageUnavailable, get_store


@dataclass(frozen=True)
class SubjectShrunk:
    subject: str
    removed_faces: int
    remaining_faces: int


@dataclass
class ImageDeletion:
    image_id: uuid.UUID
    deleted_faces: int
    subjects: list[SubjectShrunk] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people (the admin's message)."""
        text = f"{self.deleted_faces} face(s)"
        if self.subjects:
            text += "; examples removed from " + ", ".join(
                f"{s.subject} (-{s.removed_faces}, {s.remaining_faces} left)" for s in self.subjects
            )
        return text


def delete_image(image: Image) -> ImageDeletion:
    faces = list(image.faces.values_list("subject_id", "subject__name"))
    store = get_store()
    try:
        for key in image.stored_object_keys():
            store.delete(key)
    except StorageUnavailable as exc:
        raise storage_unavailable() from exc
    with transaction.atomic():
        Image.objects.filter(pk=image.pk).delete()
    removed = Counter((sid, name) for sid, name in faces if sid is not None)
    remaining = dict(
        Face.objects.filter(subject_id__in=[sid for sid, _ in removed])
        .values("subject_id")
        .annotate(n=Count("id"))
        .values_list("subject_id", "n")
    )
    shrunk = [
        SubjectShrunk(name, count, remaining.get(sid, 0))
        for (sid, name), count in sorted(removed.items(), key=lambda item: item[0][1])
    ]
    return ImageDeletion(image.id, len(faces), shrunk)
