"""The synchronous calls: add an example, recognize, detect, verify. Each stores its image as a
probe (or example), lets the worker pool process it (recognition.probes) and builds the answer;
probes are deleted before the answer returns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from images.checks import CheckedImage
from images.face_plugins import plugin_values
from images.models import Face, Image, ImagePurpose
from infra.errors import ErrorCode, ServiceError
from recognition import decisions, probes, subjects
from recognition.models_info import model_info
from recognition.predictions import det_prob_threshold_of
from recognition.serializers import (
    DetectionSerializer,
    ExampleVerificationSerializer,
    VerificationSerializer,
)
from tenants.models import Application


def add_example(
    app: Application, name: str, checked: CheckedImage, det_prob_threshold: float | None, force: bool = False
) -> Face:
    """Make the single face of ``checked`` an example of subject ``name`` (created when missing);
    a face below the quality floor is refused (``low_quality_face``) unless ``force``."""
    image = probes.run(app, checked, ImagePurpose.EXAMPLE, {"det_prob_threshold": det_prob_threshold})
    try:
        return subjects.enrol(app, name, image, checked.data, force=force)
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
    plugins: Sequence[str] = (),
    timings: bool = False,
) -> dict:
    """The recognition answer; ``plugins`` (images.face_plugins) add their fields to each face,
    ``timings`` adds the job's ``timings`` (ms)."""
    options = {
        "det_prob_threshold": det_prob_threshold,
        "limit": limit,
        "prediction_count": prediction_count,
        "recognize": True,
    }
    image = probes.run(app, checked, ImagePurpose.PROBE, options)
    try:
        result = dict((image.result or {}).get("recognition") or {})
        if plugins:
            rows = {_box_key(row.box()): row for row in image.faces.all()}
            result["faces"] = [
                {**face, **plugin_values(rows[_box_key(face["box"])], plugins)}
                for face in result.get("faces", [])
            ]
        if timings:
            result["timings"] = image.timings
        return result
    finally:
        probes.discard(image)


def _box_key(box: dict) -> tuple[int, int, int, int]:
    return box["x_min"], box["y_min"], box["x_max"], box["y_max"]


def detect(
    app: Application,
    checked: CheckedImage,
    *,
    det_prob_threshold: float | None,
    limit: int,
    plugins: Sequence[str] = (),
    timings: bool = False,
) -> dict:
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
        body = DetectionSerializer(answer, context={"plugins": tuple(plugins)}).data
        if timings:
            body["timings"] = image.timings
        return body
    finally:
        probes.discard(image)


def verify_example(
    app: Application,
    example: Face,
    checked: CheckedImage,
    *,
    det_prob_threshold: float | None,
    limit: int,
    plugins: Sequence[str] = (),
    timings: bool = False,
) -> dict:
    """Every face of ``checked`` (largest first, ``limit``) compared with one stored ``example``."""
    options = {"det_prob_threshold": det_prob_threshold, "limit": limit}
    image = probes.run(app, checked, ImagePurpose.PROBE, options)
    try:
        faces = list(image.faces.all())
        if not faces:
            raise ServiceError(ErrorCode.NO_FACE, "No face found above det_prob_threshold.")
        info = model_info(example.model)
        if faces[0].model != example.model:
            raise ServiceError(
                ErrorCode.INVALID_REQUEST,
                f"The example was embedded by {example.model!r}, this photo by {faces[0].model!r}; "
                "faces of different models cannot be compared.",
            )
        _compare(example, faces)
        answer = {
            "example": {
                "face_id": example.id,
                "subject": example.subject.name if example.subject_id else None,
            },
            "faces": faces,
            "model": info.name,
            "threshold": info.threshold,
            "det_prob_threshold": det_prob_threshold_of(image),
        }
        body = ExampleVerificationSerializer(answer, context={"plugins": tuple(plugins)}).data
        if timings:
            body["timings"] = image.timings
        return body
    finally:
        probes.discard(image)


def verify(
    app: Application,
    source: CheckedImage,
    target: CheckedImage,
    *,
    det_prob_threshold: float | None,
    limit: int,
    plugins: Sequence[str] = (),
    timings: bool = False,
    single_source: bool = False,
) -> dict:
    """Every face of ``target`` (largest first, ``limit``) compared with the largest of ``source``.

    ``single_source``: refuse a source with more than one face (``more_than_one_face``) instead
    of taking its largest. ``timings`` adds ``{"source_image": ms, "target_image": ms}``.
    """
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
        body = verification(*done, plugins=tuple(plugins), single_source=single_source)
        if timings:
            body["timings"] = {"source_image": done[0].timings, "target_image": done[1].timings}
        return body
    finally:
        for image in images:
            probes.discard(image)


def _compare(reference: Face, faces: list[Face]) -> None:
    """Set ``similarity``, ``distance``, ``verdict``, ``reason`` and ``verified`` (verdict
    ``match``: the quality-aware rule, recognition.decisions) on each face, against ``reference``."""
    info = model_info(reference.model)
    for face in faces:
        distance = float(np.linalg.norm(np.asarray(reference.embedding) - np.asarray(face.embedding)))
        decision = decisions.decide(
            reference.model, distance, reference.quality, face.quality, purpose="verify"
        )
        face.similarity = round(info.similarity(distance), 5)
        face.distance = round(distance, 5)
        face.verdict, face.reason = decision.verdict, decision.reason
        face.verified = decision.verdict == "match"


def verification(
    source: Image, target: Image, plugins: tuple[str, ...] = (), single_source: bool = False
) -> dict:
    source_faces = list(source.faces.all())
    target_faces = list(target.faces.all())
    if not source_faces:
        raise ServiceError(ErrorCode.NO_FACE, "source_image: no face found above det_prob_threshold.")
    if single_source and len(source_faces) > 1:
        raise ServiceError(
            ErrorCode.MORE_THAN_ONE_FACE,
            f"source_image: {len(source_faces)} faces found above det_prob_threshold; send one face.",
        )
    if not target_faces:
        raise ServiceError(ErrorCode.NO_FACE, "target_image: no face found above det_prob_threshold.")
    src = source_faces[0]
    info = model_info(src.model)
    _compare(src, target_faces)
    answer = {
        "source_face": src,
        "faces": target_faces,
        "model": info.name,
        "threshold": info.threshold,
        "det_prob_threshold": det_prob_threshold_of(source),
    }
    return VerificationSerializer(answer, context={"plugins": plugins}).data
