"""Embed stored faces again with another model, from the stored pixels (a model migration).

The source of pixels is the image's original (``Image.object_key``) with the face's stored box
and landmarks: exactly what a new upload would give. When the original was deleted for privacy
(FACECORE_KEEP_ORIGINALS=false) only the face's crop is left (``infra.storage.crop_key``: the box
grown by 20 % of its longer side on each side, 160x160 JPEG); models in ``CROP_MODELS`` re-embed
from it (docs/models.md "Migrating to another model" has the measured difference), the others
mark such faces not migratable.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from facecore.decode import DecodedImage
from facecore.detect import face_in_pixels
from facecore.draw import face_in_crop
from facecore.engine import get_engine
from facecore.errors import ImageError
from facecore.types import Face as EngineFace
from images.models import Face
from infra.storage import ObjectNotFound, crop_key, get_store

CROP_MODELS = frozenset({"facenet", "facenet512"})
"""Models whose input fits inside the stored crop (box + 20 % of its longer side per side):
facenet and facenet512 take the box + 10 %, at 160 px, so the crop holds all they need (measured
on the shared photos: at most 0.25 of facenet's threshold from the original's embedding). dlib
is left out: its shape predictor and rotated chip (landmarks + 25 % padding) reach past the crop
of a tilted face, and the worst face moved 0.97 of its threshold (bench/migration.py,
docs/benchmarks.md "Model migration")."""


class Problem:
    ORIGINAL_DELETED = "original_deleted"
    """No original (privacy) and the model cannot use the crop, or the crop is gone too."""
    ORIGINAL_MISSING = "original_missing"
    """The original should be in the store but is not."""
    UNDECODABLE = "undecodable"
    BAD_BOX = "bad_box"
    """The stored box does not fit the pixels (the model's ``prepare`` refused it)."""


@dataclass
class Outcome:
    vector: np.ndarray | None = None
    problem: str = ""
    from_crop: bool = False


Prepared = tuple[Face, DecodedImage, EngineFace, bool]
"""A face, the pixels to cut it from, its coordinates in them, and whether they are its crop."""


def _sources(image_faces: list[Face], model: str, outcomes: dict[uuid.UUID, Outcome]) -> list[Prepared]:
    """Where each face of one image is cut from; faces that cannot be go into ``outcomes``."""
    engine = get_engine()
    store = get_store()
    image = image_faces[0].image
    decode_failed = False
    if image.object_key and not image.original_deleted:
        try:
            decoded = engine.decode(store.get(image.object_key))
            return [(f, decoded, face_in_pixels(f.as_engine_face(), decoded), False) for f in image_faces]
        except ObjectNotFound:
            pass
        except ImageError:
            decode_failed = True
    out: list[Prepared] = []
    for face in image_faces:
        problem = Problem.UNDECODABLE if decode_failed else Problem.ORIGINAL_MISSING
        if image.original_deleted:
            problem = Problem.ORIGINAL_DELETED
        if model in CROP_MODELS:
            try:
                crop = engine.decode(store.get(crop_key(face.id)))
                out.append((face, crop, face_in_crop(face.as_engine_face()), True))
                continue
            except (ObjectNotFound, ImageError):
                pass
        outcomes[face.id] = Outcome(problem=problem)
    return out


def reembed(faces: Iterable[Face], model: str) -> dict[uuid.UUID, Outcome]:
    """Each face's new vector (or why there is none); all faces go through one ``embed`` call.

    ``faces`` need ``image`` loaded (``select_related("image")``). Store outages propagate
    (``StorageUnavailable``): the caller retries the batch.
    """
    embedder = get_engine().embedder(model)
    by_image: dict[uuid.UUID, list[Face]] = defaultdict(list)
    for face in faces:
        by_image[face.image_id].append(face)
    outcomes: dict[uuid.UUID, Outcome] = {}
    crops: list[np.ndarray] = []
    order: list[uuid.UUID] = []
    for image_faces in by_image.values():
        for face, pixels, engine_face, from_crop in _sources(image_faces, model, outcomes):
            try:
                crops.append(embedder.prepare(pixels.pixels, engine_face))
            except (ValueError, RuntimeError):
                outcomes[face.id] = Outcome(problem=Problem.BAD_BOX)
                continue
            outcomes[face.id] = Outcome(from_crop=from_crop)
            order.append(face.id)
    if order:
        vectors = embedder.embed(np.stack(crops))
        for face_id, vector in zip(order, vectors, strict=True):
            outcomes[face_id].vector = np.asarray(vector, dtype=np.float32)
    return outcomes
