"""Annotated previews from stored face rows (facecore.draw does the drawing)."""

from __future__ import annotations

from collections.abc import Iterable

from api.models import Face as FaceRow
from facecore.decode import DecodedImage
from facecore.draw import annotate
from facecore.types import Box, Face


def engine_face(row: FaceRow) -> Face:
    return Face(
        box=Box(row.x_min, row.y_min, row.x_max, row.y_max),
        probability=row.probability,
        landmarks={name: (float(p[0]), float(p[1])) for name, p in (row.landmarks or {}).items()},
        model=row.model or None,
    )


def annotated_jpeg(image: bytes | DecodedImage, rows: Iterable[FaceRow]) -> bytes:
    return annotate(image, [engine_face(row) for row in rows])
