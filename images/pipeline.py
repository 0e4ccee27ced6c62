"""One image job: original from the object store -> engine -> faces in Postgres -> webhook.

Safe to run twice for the same image (acks_late redelivery, retries, the reconciler's re-sends):
a finished image is left alone, an image another worker holds a live lease on is skipped, and
faces are replaced, not appended, inside the transaction that marks the image done.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from facecore.decode import DecodedImage
from facecore.draw import annotate, face_crop
from facecore.engine import get_engine
from facecore.errors import ImageError, ModelUnavailableError
from facecore.quality import assess_face
from facecore.types import ImageResult
from images import leases, webhooks
from images.batching import claim_mates
from images.embedding_models import active_model, store_faces
from images.leases import keeper
from images.models import Face as FaceRow
from images.models import Image, ImageStatus
from images.signals import FINISHED_CHANNEL, faces_stored
from infra import pg_listen
from infra.errors import ErrorCode
from infra.storage import ObjectNotFound, StoreUnreachable, crop_key, get_store
from infra.storage import annotated_key as annotated_key_for

log = logging.getLogger(__name__)


class JobFailed(Exception):
    """A permanent fault: the image ends ``failed`` with this code, without retries."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


UNFINISHED_FIELDS = ["status", "lease_expires_at", "next_attempt_at", "last_error"]


def _announce_end(image: Image) -> None:
    """Inside the transaction that ends the job (done or failed), so both go out only if it
    commits: the webhook is scheduled and waiting synchronous calls are woken."""
    webhooks.schedule(image)
    pg_listen.notify(FINISHED_CHANNEL, str(image.pk))


def mark_failed(image_id: str | uuid.UUID, code: str, message: str) -> None:
    """End the job as ``failed`` (once), drop the original if originals are not kept, notify."""
    with transaction.atomic():
        image = Image.objects.select_for_update().filter(pk=image_id).first()
        if image is None or image.is_finished:
            return
        image.status = ImageStatus.FAILED
        image.error_code = str(code)
        image.error_message = message[:2000]
        image.finished_at = timezone.now()
        image.lease_expires_at = image.next_attempt_at = image.last_error = None
        image.save(update_fields=[*UNFINISHED_FIELDS, "error_code", "error_message", "finished_at"])
        _announce_end(image)
    if not settings.FACECORE_KEEP_ORIGINALS:
        _delete_original(image)


def mark_retrying(
    image_id: str | uuid.UUID, code: str, message: str, delay_for: Callable[[int], float]
) -> float | None:
    """A transient fault stopped this start: ``retrying`` for ``delay_for(retries so far)`` seconds.

    Returns that delay; None when the image has used its starts (FACECORE_JOB_MAX_RETRIES
    retries) and ended ``failed`` with ``code``, or is gone. Counting starts in the database (not
    Celery's retry count) keeps the limit when a retry message is lost and the reconciler sends a
    new one.
    """
    with transaction.atomic():
        image = Image.objects.select_for_update().filter(pk=image_id).first()
        if image is None or image.is_finished:
            return None
        retries = image.deliveries - 1
        if retries < settings.FACECORE_JOB_MAX_RETRIES:
            delay = delay_for(retries)
            image.status = ImageStatus.RETRYING
            image.lease_expires_at = None
            image.next_attempt_at = timezone.now() + timedelta(seconds=delay)
            image.last_error = {"code": str(code), "message": message[:2000]}
            image.save(update_fields=UNFINISHED_FIELDS)
            return delay
    mark_failed(image_id, code, f"Processing failed after {retries} retries: {message}")
    return None


def _delete_original(image: Image) -> None:
    get_store().delete(image.object_key)
    if not image.original_deleted:
        Image.objects.filter(pk=image.pk).update(original_deleted=True)


def _quality(face, decoded: DecodedImage) -> dict | None:
    """The face's quality measures (no model; ~2 ms); None, logged, if they cannot be taken."""
    try:
        return assess_face(face, decoded).to_dict()
    except Exception:  # a measure must never fail the job that found the face
        log.warning("face quality could not be measured", exc_info=True)
        return None


def _face_rows(image: Image, result: ImageResult, decoded: DecodedImage) -> list[FaceRow]:
    return [
        FaceRow(
            application_id=image.application_id,
            image=image,
            x_min=face.box.x_min,
            y_min=face.box.y_min,
            x_max=face.box.x_max,
            y_max=face.box.y_max,
            probability=float(face.probability),
            landmarks=face.to_dict()["landmarks"],
            embedding=face.embedding,
            model=face.model or "",
            quality=_quality(face, decoded),
        )
        for face in result.faces
    ]


CRASH_REDELIVERIES = 2
"""Extra starts allowed beyond Celery's own retries before a job counts as killing its worker."""


def max_deliveries() -> int:
    """Starts a job may take: its first try, every transient-fault retry, and a few redeliveries
    after a worker died mid-job (acks_late). Past that the image would crash workers forever."""
    return 1 + settings.FACECORE_JOB_MAX_RETRIES + CRASH_REDELIVERIES


def _start(image_id: str) -> Image | None:
    """Claim the image (``processing``, with a lease); None when there is nothing (more) to do."""
    with transaction.atomic():
        image = Image.objects.select_for_update().filter(pk=image_id).first()
        if image is None:
            log.info("image %s was deleted before processing", image_id)
            return None
        if image.is_finished:
            # Redelivered after finishing; only finish a privacy delete that may have failed.
            if image.original_deleted and image.object_key:
                get_store().delete(image.object_key)
            return None
        now = timezone.now()
        if image.status == ImageStatus.PROCESSING and image.lease_expires_at and image.lease_expires_at > now:
            log.info(
                "image %s is held by another worker until %s; skipping", image.id, image.lease_expires_at
            )
            return None
        leases.start(image, now)
        image.save(update_fields=leases.STARTED_FIELDS)
        return image


def process(image_id: str, on_mate_error: Callable[[uuid.UUID, Exception], None] | None = None) -> None:
    """Run the job. Transient faults (store, database) propagate so the task retries them.

    With ``on_mate_error`` the job also claims other queued images (images.batching) and runs
    them through the engine in one batch; each is then finished on its own, and a fault of one
    of them goes to ``on_mate_error(image_id, exc)`` instead of being raised here.
    """
    image = _start(image_id)
    if image is None:
        return
    images = [image, *(claim_mates(image) if on_mate_error else [])]
    with keeper.held([i.id for i in images]):
        primary, *mates = _run(images)
    for job in mates:
        if job.error is not None and on_mate_error is not None:
            on_mate_error(job.image.id, job.error)
    if primary.error is not None:
        raise primary.error


@dataclass
class _Job:
    """One image's way through a batch; ``error`` ends it (the others go on)."""

    image: Image
    timings: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    decoded: DecodedImage | None = None
    result: ImageResult | None = None
    error: Exception | None = None


def _engine_options(image: Image) -> tuple:
    """What the engine call depends on; images in one engine batch share it."""
    options = image.options or {}
    return (options.get("det_prob_threshold"), options.get("limit") or 0)


def _run(images: list[Image]) -> list[_Job]:
    """Fetch and decode each image, analyze them in batches of equal options, store each."""
    jobs = [_Job(image) for image in images]
    store_down: StoreUnreachable | None = None
    for job in jobs:
        if store_down is not None:
            job.error = store_down  # the others would only wait for the same timeout, one by one
            continue
        _step(job, _load)
        if isinstance(job.error, StoreUnreachable):
            store_down = job.error
    groups: dict[tuple, list[_Job]] = {}
    for job in jobs:
        if job.error is None:
            groups.setdefault(_engine_options(job.image), []).append(job)
    for options, group in groups.items():
        _analyze(group, *options)
    for job in jobs:
        if job.error is None:
            _step(job, _finish)
    return jobs


def _step(job: _Job, step: Callable[[_Job], None]) -> None:
    try:
        step(job)
    except Exception as exc:  # this image's fault; its batch-mates go on
        job.error = exc


def _load(job: _Job) -> None:
    image = job.image
    if image.deliveries > max_deliveries():
        raise JobFailed(
            ErrorCode.WORKER_LOST,
            f"The job was started {image.deliveries - 1} times without finishing: the worker "
            "processing it stopped (crash or out of memory). Giving up on this image.",
        )
    job.timings["queued"] = round((image.started_at - image.created_at).total_seconds() * 1000, 2)
    start = time.perf_counter()
    try:
        data = get_store().get(image.object_key)
    except ObjectNotFound as exc:
        raise JobFailed(ErrorCode.ORIGINAL_MISSING, "The stored original is missing.") from exc
    job.timings["fetch"] = _ms(start)
    start = time.perf_counter()
    try:
        job.decoded = get_engine().decode(data)
    except ImageError as exc:
        raise JobFailed(exc.code, exc.message) from exc
    job.timings["decode"] = _ms(start)


def _analyze(group: list[_Job], det_prob_threshold: float | None, limit: int) -> None:
    """One engine call for the group; if it fails, each image alone (so only the bad one fails)."""
    try:
        results = get_engine().analyze(
            [job.decoded for job in group],
            model=active_model(),
            det_prob_threshold=det_prob_threshold,
            limit=limit,
        )
    except Exception as exc:
        if len(group) > 1:
            log.warning("a batch of %d images failed (%s); analysing them one by one", len(group), exc)
            for job in group:
                _analyze([job], det_prob_threshold, limit)
            return
        group[0].error = _job_error(exc)
        return
    for job, result in zip(group, results, strict=True):
        job.result = result
        # The engine's own "decode" is 0 here (we passed it a decoded image); keep ours.
        job.timings.update({k: round(float(v), 2) for k, v in result.timings_ms.items() if k != "decode"})
        job.timings["batch_size"] = len(group)


def _job_error(exc: Exception) -> Exception:
    if isinstance(exc, ImageError):
        return JobFailed(exc.code, exc.message)
    if isinstance(exc, ModelUnavailableError):
        return JobFailed(ModelUnavailableError.code, str(exc))
    return exc


def _finish(job: _Job) -> None:
    """Store the image's faces and mark it done, in its own transaction; schedule its webhook."""
    image, result, decoded, timings = job.image, job.result, job.decoded, job.timings
    store = get_store()
    keep = settings.FACECORE_KEEP_ORIGINALS
    preview_key = ""
    rows = _face_rows(image, result, decoded)
    crop_keys: list[str] = []
    if not keep:
        # The original goes away; keep a small annotated preview for GET .../annotated and each
        # face's crop (GET /faces/{id}/img, the review pages' thumbnails).
        start = time.perf_counter()
        preview_key = annotated_key_for(image.id)
        store.put(preview_key, annotate(decoded, result.faces), "image/jpeg")
        for row, face in zip(rows, result.faces, strict=True):
            crop_keys.append(crop_key(row.id))
            store.put(crop_keys[-1], face_crop(decoded, face), "image/jpeg")
        timings["preview"] = _ms(start)

    start = time.perf_counter()
    with transaction.atomic():
        locked = Image.objects.select_for_update().filter(pk=image.pk).first()
        if locked is None or locked.is_finished:
            gone = locked is None
        else:
            gone = False
            FaceRow.objects.filter(image=locked).delete()
            faces = store_faces(rows, result.faces, decoded)
            announced = time.perf_counter()
            faces_stored.send(sender=Image, image=locked, faces=faces)
            timings["match"] = _ms(announced)  # the subscribers: matches, clusters, recognition
            locked.status = ImageStatus.DONE
            locked.error_code = ""
            locked.error_message = ""
            locked.width, locked.height = result.width, result.height
            locked.finished_at = timezone.now()
            locked.annotated_key = preview_key
            locked.original_deleted = not keep
            locked.lease_expires_at = locked.next_attempt_at = locked.last_error = None
            timings["save"] = _ms(start)
            timings["total"] = _ms(job.started)
            locked.timings = timings
            locked.save()
            _announce_end(locked)
    if gone:
        # Deleted while we worked: do not leave a preview or crops behind.
        for key in ([preview_key] if preview_key else []) + crop_keys:
            store.delete(key)
        return
    if not keep:
        store.delete(image.object_key)
