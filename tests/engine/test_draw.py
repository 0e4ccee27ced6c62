"""Drawing: annotated overviews and face thumbnails (no models needed: faces are given)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from facecore.decode import decode_image
from facecore.draw import annotate, face_crop
from facecore.types import LANDMARK_NAMES, Box, Face

from .conftest import ENGINE_DEFAULTS
from .images import encode


def grey(width: int, height: int) -> bytes:
    return encode(np.full((height, width, 3), 128, np.uint8), "PNG")


def face_at(x0: int, y0: int, x1: int, y1: int) -> Face:
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    points = [(cx - 10, cy - 10), (cx + 10, cy - 10), (cx, cy), (cx - 8, cy + 12), (cx + 8, cy + 12)]
    return Face(
        box=Box(x0, y0, x1, y1), probability=0.99, landmarks=dict(zip(LANDMARK_NAMES, points, strict=True))
    )


def jpeg(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    return img.convert("RGB")


def test_annotate_draws_boxes_where_the_faces_are() -> None:
    data = grey(400, 300)
    out = jpeg(annotate(data, [face_at(100, 50, 200, 170)]))
    assert out.size == (400, 300)
    pixels = np.asarray(out).astype(int)
    green = (pixels[..., 1] > 200) & (pixels[..., 0] < 100) & (pixels[..., 2] < 100)
    ys, xs = np.nonzero(green)
    assert abs(xs.min() - 100) <= 2 and abs(xs.max() - 199) <= 2
    assert abs(ys.min() - 50) <= 2 and abs(ys.max() - 169) <= 2
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 100)
    assert red[110, 150]  # the nose landmark dot at the box centre
    assert not green[250, 350] and not red[250, 350]


def test_annotate_is_bounded_and_scales_faces_with_the_image() -> None:
    decoded = decode_image(grey(3000, 1500), ENGINE_DEFAULTS)  # working image is 2048 wide
    out = jpeg(annotate(decoded, [face_at(1500, 750, 2100, 1350)], max_side=600))
    assert out.size == (600, 300)
    pixels = np.asarray(out).astype(int)
    green = (pixels[..., 1] > 200) & (pixels[..., 0] < 100)
    xs = np.nonzero(green)[1]
    assert xs.min() == pytest.approx(300, abs=3) and xs.max() == pytest.approx(420, abs=3)


def test_face_crop_is_a_square_thumbnail_of_the_face() -> None:
    img = np.full((300, 400, 3), 128, np.uint8)
    img[100:200, 150:250] = (255, 0, 0)  # the "face"
    out = jpeg(face_crop(encode(img, "PNG"), face_at(150, 100, 250, 200), size=112, margin=0.2))
    assert out.size == (112, 112)
    pixels = np.asarray(out).astype(int)
    assert pixels[56, 56, 0] > 200 and pixels[56, 56, 1] < 60  # centre is the face
    assert abs(pixels[3, 3] - 128).max() < 30  # the margin shows the surroundings
    # 100 px face + 2 x 20 px margin = 140 px -> the face spans ~100/140 of the thumbnail
    red_columns = np.nonzero(pixels[56, :, 0] > 200)[0]
    assert len(red_columns) == pytest.approx(112 * 100 / 140, abs=4)


def test_face_crop_at_the_border_pads_with_black() -> None:
    out = jpeg(face_crop(grey(200, 200), face_at(0, 0, 60, 60), size=64))
    pixels = np.asarray(out).astype(int)
    assert pixels[1, 1].max() < 30
    assert abs(pixels[40, 40] - 128).max() < 30
