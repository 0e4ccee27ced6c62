"""JPEG renderings of results: an annotated overview and single-face thumbnails."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw

from facecore.decode import DecodedImage, decode_image
from facecore.types import Box, Face

BOX_COLOUR = (0, 255, 0)
LANDMARK_COLOUR = (255, 0, 0)
JPEG_QUALITY = 90


def _as_decoded(image: bytes | DecodedImage) -> DecodedImage:
    return image if isinstance(image, DecodedImage) else decode_image(image)


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def annotate(image: bytes | DecodedImage, faces: list[Face], max_side: int = 1600) -> bytes:
    """JPEG of the image (longer side <= ``max_side``) with face boxes and landmarks drawn.

    ``faces`` are in original-image coordinates, as the engine returns them.
    """
    decoded = _as_decoded(image)
    canvas = Image.fromarray(decoded.pixels)
    if max(canvas.size) > max_side:
        canvas.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    sx = canvas.width / decoded.width
    sy = canvas.height / decoded.height
    line = max(2, round(max(canvas.size) / 400))
    dot = line + 1
    draw = ImageDraw.Draw(canvas)
    for face in faces:
        b = face.box
        draw.rectangle(
            (b.x_min * sx, b.y_min * sy, b.x_max * sx - 1, b.y_max * sy - 1), outline=BOX_COLOUR, width=line
        )
        for x, y in face.landmarks.values():
            cx, cy = x * sx, y * sy
            draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=LANDMARK_COLOUR)
    return _jpeg(canvas)


def face_crop(image: bytes | DecodedImage, face: Face, size: int = 160, margin: float = 0.2) -> bytes:
    """Square ``size`` x ``size`` JPEG of one face, its box grown by ``margin`` x the longer side.

    Areas outside the image are black.
    """
    decoded = _as_decoded(image)
    sx, sy = decoded.pixels_scale
    b = face.box
    side = max(b.width / sx, b.height / sy) * (1 + 2 * margin)
    cx = (b.x_min + b.x_max) / 2 / sx
    cy = (b.y_min + b.y_max) / 2 / sy
    half = side / 2
    region = (round(cx - half), round(cy - half), round(cx + half), round(cy + half))
    crop = Image.fromarray(decoded.pixels).crop(region)
    return _jpeg(crop.resize((size, size), Image.Resampling.BILINEAR))


def face_in_crop(face: Face, size: int = 160, margin: float = 0.2) -> Face:
    """``face`` (original coordinates) in the coordinates of its ``face_crop(..., size, margin)``.

    Lets a model re-embed a face from its stored crop when the original is gone
    (images.reembed). Exact up to the crop's rounding to whole working pixels.
    """
    b = face.box
    side = max(b.width, b.height) * (1 + 2 * margin)
    x0 = (b.x_min + b.x_max) / 2 - side / 2
    y0 = (b.y_min + b.y_max) / 2 - side / 2
    scale = size / side
    box = Box(
        x_min=max(0, math.floor((b.x_min - x0) * scale)),
        y_min=max(0, math.floor((b.y_min - y0) * scale)),
        x_max=min(size, math.ceil((b.x_max - x0) * scale)),
        y_max=min(size, math.ceil((b.y_max - y0) * scale)),
    )
    landmarks = {k: ((x - x0) * scale, (y - y0) * scale) for k, (x, y) in face.landmarks.items()}
    return Face(box=box, probability=face.probability, landmarks=landmarks)
