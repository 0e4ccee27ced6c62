"""Bulk enrolment: many example photos, one subject each, through the worker pool.

Each photo becomes an example image job like ``POST /subjects/{name}/faces`` makes, with the
option ``enrol``; the worker that processes it applies the example rules (``subjects.example_face``:
exactly one face, not below the quality floor unless forced) inside the job's transaction
(``enrol_processed``, a receiver of ``images.signals.faces_stored``) and writes the item's outcome.
A refused photo's image is deleted, as a refused single example is.

Resumable: the image's ``request_id`` is derived from the subject and the photo's SHA-256, so a
photo already enrolled for that subject is found (skipped) instead of being processed again.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from images.checks import checked_image, max_image_bytes, too_large
from images.models import Face, Image, ImagePurpose, ImageStatus
from images.submission import submit_image
from infra.errors import ErrorCode, ServiceError
from recognition import import_files, probes, subjects
from recognition.models import ImportItem, ImportJob, ImportStatus
from tenants.models import Application

log = logging.getLogger(__name__)

FINISHED = (ImportStatus.ENROLLED, ImportStatus.SKIPPED, ImportStatus.REFUSED)


def request_id(subject: str, sha256: str) -> str:
    """The example image's idempotency key: one per (subject, photo content)."""
    return "import:" + hashlib.sha256(f"{subject}\0{sha256}".encode()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What becomes (or, in a dry run, would become) of one file before any processing."""

    status: str
    code: str = ""
    message: str = ""
    face_id: uuid.UUID | None = None


def precheck(
    app: Application, subject: str, data: bytes | ServiceError
) -> tuple[Outcome | None, object, str]:
    """``(outcome, checked image, sha256)``: an outcome when the file is settled without the
    worker (invalid subject, unreadable, not an image, too large, already enrolled), else None.
    ``data`` may be the error that stopped the file being read."""
    if isinstance(data, ServiceError):
        return Outcome(ImportStatus.REFUSED, data.code, data.message), None, ""
    digest = hashlib.sha256(data).hexdigest()
    if not subject.strip():
        message = "The file is not in a subject folder (<subject>/<photo>); it names nobody."
        return Outcome(ImportStatus.REFUSED, ErrorCode.INVALID_SUBJECT, message), None, digest
    try:
        name = subjects.clean_name(subject)
        checked = checked_image(data)
    except ServiceError as exc:
        return Outcome(ImportStatus.REFUSED, exc.code, exc.message), None, digest
    face_id = (
        Face.objects.filter(application=app, subject__name=name, image__request_id=request_id(name, digest))
        .values_list("id", flat=True)
        .first()
    )
    if face_id is not None:
        return (
            Outcome(ImportStatus.SKIPPED, "already_enrolled", "Already an example of this subject.", face_id),
            None,
            digest,
        )
    return None, checked, digest


def start(
    app: Application, *, source: str, force: bool = False, det_prob_threshold: float | None = None
) -> ImportJob:
    return ImportJob.objects.create(
        application=app, source=source, force=force, det_prob_threshold=det_prob_threshold
    )


def add(job: ImportJob, subject: str, file: str, data: bytes | ServiceError) -> ImportItem:
    """Record one file of the import and, unless settled at once, submit it to the worker pool.

    The broker being down is not an error here: the image stays ``queued`` and the reconciler
    sends it when the broker is back. The object store being down refuses this file (its item
    says ``storage_unavailable``; running the import again takes it).
    """
    app = job.application
    outcome, checked, digest = precheck(app, subject, data)
    item = ImportItem(job=job, subject=subject.strip()[:200], file=file[:1000], sha256=digest)
    if outcome is not None:
        twin = None
        if outcome.face_id is not None:
            twin = job.items.filter(face_id=outcome.face_id).values_list("file", flat=True).first()
        if twin is not None:  # enrolled a moment ago by this import
            outcome = Outcome(
                ImportStatus.SKIPPED, "duplicate", f"The same photo as {twin}.", outcome.face_id
            )
        _settle(item, outcome)
        item.save()
        return item
    item.save()
    options = {
        "det_prob_threshold": job.det_prob_threshold,
        "enrol": {"subject": item.subject, "force": job.force, "item": item.pk},
    }
    try:
        image, created = submit_image(
            app,
            checked,
            purpose=ImagePurpose.EXAMPLE,
            options=options,
            request_id=request_id(item.subject, digest),
        )
    except ServiceError as exc:  # the object store is down: this file is not taken, say so
        _settle(item, Outcome(ImportStatus.REFUSED, exc.code, exc.message))
        item.save()
        return item
    item.image_id = image.id
    fields = ["image_id"]
    if not created:
        twin = job.items.filter(image_id=image.id).exclude(pk=item.pk).values_list("file", flat=True).first()
        if twin is not None:
            _settle(item, Outcome(ImportStatus.SKIPPED, "duplicate", f"The same photo as {twin}."))
            fields += ["status", "code", "message", "finished_at"]
    ImportItem.objects.filter(pk=item.pk).update(**{f: getattr(item, f) for f in fields})
    return item


def _settle(item: ImportItem, outcome: Outcome) -> None:
    item.status, item.code, item.message = outcome.status, str(outcome.code), outcome.message
    item.face_id = outcome.face_id
    item.finished_at = timezone.now()


def enrol_processed(image: Image, faces: list[Face]) -> None:
    """In the worker, inside the job's transaction: enrol the face of an imported example image
    or refuse it; the item records which. A refused image is deleted after the commit."""
    enrol = (image.options or {}).get("enrol")
    if image.purpose != ImagePurpose.EXAMPLE or not isinstance(enrol, dict):
        return
    try:
        face = subjects.example_face(faces, force=bool(enrol.get("force")))
        subjects.assign_example(image.application, enrol["subject"], face)
        outcome = Outcome(ImportStatus.ENROLLED, message=getattr(face, "example_note", ""), face_id=face.id)
    except ServiceError as exc:
        outcome = Outcome(ImportStatus.REFUSED, exc.code, exc.message)
        refused = Image(pk=image.pk)
        transaction.on_commit(lambda: probes.discard(refused))
    image.result = {
        **(image.result or {}),
        "enrolment": {"status": outcome.status, "code": str(outcome.code)},
    }
    ImportItem.objects.filter(pk=enrol.get("item")).update(
        status=outcome.status,
        code=str(outcome.code),
        message=outcome.message,
        face_id=outcome.face_id,
        finished_at=timezone.now(),
    )


def resolve(job: ImportJob) -> None:
    """Settle the pending items whose image finished without the receiver writing to them: the
    image failed in the worker (not decodable...: refused with its code, the image deleted), or
    it belongs to an earlier import still running when this one started."""
    pending = list(job.items.filter(status=ImportStatus.PENDING, image_id__isnull=False))
    if not pending:
        return
    images = {i.pk: i for i in Image.objects.filter(pk__in=[p.image_id for p in pending])}
    for item in pending:
        image = images.get(item.image_id)
        if image is not None and not image.is_finished:
            continue  # still being processed: its worker settles it
        outcome = _outcome_of(item, image)
        if outcome is None:
            continue
        _settle(item, outcome)
        ImportItem.objects.filter(pk=item.pk, status=ImportStatus.PENDING).update(
            status=item.status, code=item.code, message=item.message, face_id=item.face_id,
            finished_at=item.finished_at,
        )  # fmt: skip
        if image is not None and image.status == ImageStatus.FAILED:
            probes.discard(image)


def _outcome_of(item: ImportItem, image: Image | None) -> Outcome | None:
    if image is not None and image.status == ImageStatus.FAILED:
        return Outcome(
            ImportStatus.REFUSED, image.error_code or ErrorCode.PROCESSING_FAILED, image.error_message
        )
    other = ImportItem.objects.filter(image_id=item.image_id, status__in=FINISHED).exclude(pk=item.pk).first()
    if other is not None:
        return Outcome(other.status, other.code, other.message, other.face_id)
    if image is None:
        return Outcome(
            ImportStatus.REFUSED, ErrorCode.PROCESSING_FAILED, "The photo's job was deleted; import it again."
        )
    return None


@dataclass
class Progress:
    total: int
    enrolled: int
    skipped: int
    refused: int
    refused_by_code: dict[str, int]

    @property
    def done(self) -> int:
        return self.enrolled + self.skipped + self.refused

    @property
    def finished(self) -> bool:
        return self.done >= self.total


def progress(job: ImportJob) -> Progress:
    """The counts of ``job`` (pending items whose image finished are settled first)."""
    resolve(job)
    counts = Counter({r["status"]: r["n"] for r in job.items.values("status").annotate(n=Count("id"))})
    refused = job.items.filter(status=ImportStatus.REFUSED).values("code").annotate(n=Count("id"))
    return Progress(
        total=sum(counts.values()),
        enrolled=counts[ImportStatus.ENROLLED],
        skipped=counts[ImportStatus.SKIPPED],
        refused=counts[ImportStatus.REFUSED],
        refused_by_code={r["code"]: r["n"] for r in refused.order_by("code")},
    )


def status(job: ImportJob) -> dict:
    """The import's status document (GET /api/v1/imports/{id}; recognition.serializers)."""
    counts = progress(job)
    return {
        "id": job.id,
        "status": "done" if counts.finished else "running",
        "total": counts.total,
        "done": counts.done,
        "pending": counts.total - counts.done,
        "enrolled": counts.enrolled,
        "skipped": counts.skipped,
        "refused": counts.refused,
        "refused_by_code": counts.refused_by_code,
        "force": job.force,
        "created_at": job.created_at,
        "items": list(job.items.all()),
    }


def get_import(app: Application, import_id: object) -> ImportJob:
    try:
        pk = uuid.UUID(str(import_id))
    except ValueError:
        pk = None
    job = ImportJob.objects.filter(pk=pk, application=app).first() if pk else None
    if job is None:
        raise ServiceError(ErrorCode.NOT_FOUND, f"No import {import_id!r}.")
    return job


def add_all(job: ImportJob, files: Iterable[tuple[str, str, bytes | ServiceError]]) -> int:
    """Add ``(subject, file name, bytes)`` files one at a time (only one photo in memory)."""
    count = 0
    for subject, name, data in files:
        add(job, subject, name, data)
        count += 1
    return count


def _limits(count: int) -> None:
    if count == 0:
        raise ServiceError(ErrorCode.EMPTY_IMPORT, "Nothing to import: send an 'archive' or 'files'.")
    limit = settings.FACECORE_IMPORT_MAX_FILES
    if count > limit:
        raise ServiceError(
            ErrorCode.TOO_MANY_FILES,
            f"{count} files; one import takes at most {limit} (FACECORE_IMPORT_MAX_FILES).",
        )


def import_archive(
    app: Application, stream: IO[bytes], *, force: bool = False, det_prob_threshold: float | None = None
) -> ImportJob:
    """A zip with one folder per subject: checked whole first (``bad_archive``, ``empty_import``,
    ``too_many_files``), then its photos are submitted one at a time."""
    with import_files.open_zip(stream) as archive:
        members = import_files.zip_members(archive)
        _limits(len(members))
        job = start(app, source="api", force=force, det_prob_threshold=det_prob_threshold)
        add_all(job, import_files.zip_files(archive, max_image_bytes()))
    return job


def import_uploads(
    app: Application,
    uploads: Sequence[tuple[str, str, IO[bytes]]],
    *,
    force: bool = False,
    det_prob_threshold: float | None = None,
) -> ImportJob:
    """Uploaded ``(subject, file name, stream)`` photos."""
    _limits(len(uploads))
    job = start(app, source="api", force=force, det_prob_threshold=det_prob_threshold)
    limit = max_image_bytes()
    add_all(job, ((subject, name, _read(stream, limit)) for subject, name, stream in uploads))
    return job


def _read(stream: IO[bytes], limit: int) -> bytes | ServiceError:
    data = stream.read(limit + 1)
    return too_large(None, limit) if len(data) > limit else data
