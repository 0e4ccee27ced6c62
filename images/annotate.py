"""Annotated previews from stored face rows (facecore.draw does the drawing)."""

from __future__ import annotations

from collections.abc import Iterable

from facecore.decode import DecodedImage
from facecore.draw import annotate
from images.models import Face


def annotated_jpeg(image: bytes | DecodedImage, rows: Iterable[Face]) -> bytes:
    return annotate(image, [row.as_engine_face() for row in rows])
