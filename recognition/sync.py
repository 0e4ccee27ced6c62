"""The synchronous calls: add an example, recognize, detect, verify. Each stores its image as a
probe (or example), lets the worker pool process it (recognition.probes) and builds the answer;
probes are deleted before the answer returns."""

from __future__ import annotations

import numpy as np

from images.checks import CheckedImage
from images.models import Face, ImagePurpose
from infra.errors import ErrorCode, ServiceError
from recognition import probes, subjects
from recognition.models_info import model_info
from recognition.predictions import det_prob_threshold_of
from recognition.serializers import DetectionSerializer, VerificationSerializer
from tenants.models import Application


def add_example(app: Application, name: str, checked: CheckedImage, det_prob_threshold: float | None) -> Face:
    """Make the single face of ``checked`` an example of subject ``name`` (created when missing)."""
    image = probes.run(app, checked, ImagePurpose.EXAMPLE, {"det_prob_threshold": det_prob_threshold})
    try:
        return subjects.enrol(app, name, image, checked.data)
    except BaseException:
        probes.discard(image)  # refused or failed: leave no example image, face or crop behind
        raise


def recognize(
    app: Application,
    checked: CheckedImage,
    *,
    det_prob_threshold: float | None,
    limit: int,
    prediction_count: int,
) -> dict:
    options = {
        "det_prob_threshold": det_prob_threshold,
        "limit": limit,
        "prediction_count": prediction_count,
        "recognize": True,
    }
    image = probes.run(app, checked, ImagePurpose.PROBE, options)
    try:
        return (image.result or {}).get("recognition") or {}
    finally:
        probes.discard(image)


def detect(app: Application, checked: CheckedImage, *, det_prob_threshold: float | None, limit: int) -> dict:
    options = {"det_prob_threshold": det_prob_threshold, "limit": limit}
    image = probes.run(app, checked, ImagePurpose.PROBE, options)
    try:
        faces = list(image.faces.all())
        answer = {
            "width": image.width,
            "height": image.height,
            "det_prob_threshold": det_prob_threshold_of(image),
            "face_count": len(faces),
            "faces": faces,
        }
        return DetectionSerializer(answer).data
    finally:
        probes.discard(image)


def verify(
    app: Application,
    source: CheckedImage,
    target: CheckedImage,
    *,
    det_prob_threshold: float | None,
    limit: int,
) -> dict:
    """Every face of ``target`` (largest first, ``limit``) compared with the largest of ``source``."""
    images = []
    try:
        images.append(
            probes.submit(app, source, ImagePurpose.PROBE, {"det_prob_threshold": det_prob_threshold})
        )
        images.append(
            probes.submit(
                app, target, ImagePurpose.PROBE, {"det_prob_threshold": det_prob_threshold, "limit": limit}
            )
        )
        done = [probes.wait(image) for image in images]
        for image, field in zip(done, ("source_image", "target_image"), strict=True):
            if image.status != "done":
                raise probes.failure_error(image, field)
        return verification(*done)
    finally:
        for image in images:
            probes.discard(image)


def verification(source, target) -> dict:
    source_faces = list(source.faces.all())
    target_faces = list(target.faces.all())
    if not source_faces:
        raise ServiceError(ErrorCode.NO_FACE, "source_image: no face found above det_prob_threshold.")
    if not target_faces:
        raise ServiceError(ErrorCode.NO_FACE, "target_image: no face found above det_prob_threshold.")
    src = source_faces[0]
    info = model_info(src.model)
    for face in target_faces:
        distance = float(np.linalg.norm(np.asarray(src.embedding) - np.asarray(face.embedding)))
        face.similarity = round(info.similarity(distance), 5)
        face.distance = round(distance, 5)
        face.verified = info.same_person(distance)
    answer = {
        "source_face": src,
        "faces": target_faces,
        "model": info.name,
        "threshold": info.threshold,
        "det_prob_threshold": det_prob_threshold_of(source),
    }
    return VerificationSerializer(answer).data
