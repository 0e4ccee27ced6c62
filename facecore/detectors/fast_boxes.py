"""Box arithmetic of the MTCNN stages, vectorized in numpy.

Each function reproduces the matching step of the PyPI ``mtcnn`` 1.0.0 package
(``mtcnn/utils/bboxes.py``), including its float64 arithmetic and its sort order, so the
fast detector keeps the same boxes as the package.  Boxes here are ``(N, 5)`` float64 rows of
``x1, y1, x2, y2, score`` for one image (the package carries an extra image-id column).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facecore.detectors.base import DETECTION_COLUMNS

PNET_STRIDE = 2
PNET_CELL = 12
_NMS_CHUNK = 512


@dataclass(frozen=True)
class MTCNNParams:
    """Stage parameters; the defaults are the ``mtcnn`` package's."""

    scale_factor: float = 0.709
    threshold_pnet: float = 0.6
    threshold_rnet: float = 0.7
    threshold_onet: float = 0.8
    nms_pnet_scale: float = 0.5
    nms_pnet_all: float = 0.7
    nms_rnet: float = 0.7
    nms_onet: float = 0.7


def pyramid_scales(
    width: int, height: int, min_face_size: int, scale_factor: float, min_size: int = 12
) -> np.ndarray:
    """The image-pyramid scales the package uses (``build_scale_pyramid``)."""
    min_dim = min(width, height)
    if min_dim <= 0:
        return np.empty((0,), dtype=np.float64)
    count = round(-((np.log(min_dim / min_size) / np.log(scale_factor)) + 1))
    return (min_size / min_face_size) * scale_factor ** np.arange(max(count, 0))


def scaled_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """The pyramid level's size: ``tf.image.resize`` truncates the float size like this."""
    size = np.asarray([height, width]) * scale
    return int(size[0]), int(size[1])


def pyramid_levels(
    height: int, width: int, min_face_size: int, scale_factor: float
) -> list[tuple[float, tuple[int, int]]]:
    """(scale, (height, width)) of each pyramid level PNet runs on: the package's scales, minus
    the levels smaller than one PNet cell (12x12 input gives one output cell)."""
    levels = [
        (scale, scaled_size(height, width, scale))
        for scale in pyramid_scales(width, height, min_face_size, scale_factor)
    ]
    return [(scale, size) for scale, size in levels if min(size) >= PNET_CELL]


def sort_desc(boxes: np.ndarray) -> np.ndarray:
    """Highest score first, ties ordered as the package's ``sort_by_scores`` orders them."""
    return boxes[np.argsort(boxes[:, 4])[::-1]]


def pnet_boxes(reg: np.ndarray, prob: np.ndarray, threshold: float, scale: float) -> np.ndarray:
    """PNet maps of one pyramid level -> candidate boxes in input-image pixels, best first."""
    ys, xs = np.where(prob > threshold)
    if ys.size == 0:
        return np.empty((0, 5), dtype=np.float64)
    r = reg[ys, xs].astype(np.float64)
    side = PNET_CELL - 1
    x1 = xs * PNET_STRIDE + 1 + r[:, 0] * side
    y1 = ys * PNET_STRIDE + 1 + r[:, 1] * side
    x2 = xs * PNET_STRIDE + PNET_CELL + r[:, 2] * side
    y2 = ys * PNET_STRIDE + PNET_CELL + r[:, 3] * side
    boxes = np.stack([x1, y1, x2, y2, prob[ys, xs].astype(np.float64)], axis=1)
    boxes = sort_desc(boxes)
    boxes[:, :4] /= scale
    return boxes


def nms(boxes: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """The package's suppression rule on boxes already sorted best first.

    Unlike the greedy textbook NMS, a box is dropped when *any* better box overlaps it by more
    than ``threshold``, even one that was itself dropped; this is what ``mtcnn`` does, so we do
    the same.  Computed in row chunks to bound memory for the thousands of PNet candidates.
    """
    n = boxes.shape[0]
    if n <= 1:
        return boxes
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    area = (x2 - x1) * (y2 - y1)
    suppressed = np.zeros(n, dtype=bool)
    for start in range(0, n - 1, _NMS_CHUNK):
        stop = min(start + _NMS_CHUNK, n - 1)
        rows = slice(start, stop)
        # Only columns j > i can be suppressed by row i.
        cols = slice(start + 1, n)
        w = np.maximum(
            0, np.minimum(x2[rows, None], x2[None, cols]) - np.maximum(x1[rows, None], x1[None, cols])
        )
        h = np.maximum(
            0, np.minimum(y2[rows, None], y2[None, cols]) - np.maximum(y1[rows, None], y1[None, cols])
        )
        inter = w * h
        if method == "union":
            denom = area[rows, None] + area[None, cols] - inter
        elif method == "min":
            denom = np.minimum(area[rows, None], area[None, cols])
        else:
            raise ValueError(f"unknown NMS method {method!r}")
        with np.errstate(divide="ignore", invalid="ignore"):
            overlap = inter / denom > threshold
        # Row i may only suppress columns j > i: mask the lower triangle of this block.
        row_idx = np.arange(start, stop)[:, None]
        col_idx = np.arange(start + 1, n)[None, :]
        overlap &= col_idx > row_idx
        suppressed[start + 1 :] |= overlap.any(axis=0)
    return boxes[~suppressed]


def to_square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (``resize_to_square``)."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def refine(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Apply a stage's box regression (``adjust_bboxes``): offsets are in units of box size."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out[:, :4] += offsets.astype(np.float64) * np.stack([w, h, w, h], axis=1)
    return out


def place_landmarks(landmarks: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """ONet's landmarks (x1..x5, y1..y5 relative to the box) -> image pixels (``adjust_landmarks``)."""
    w = boxes[:, 2:3] - boxes[:, 0:1] + 1
    h = boxes[:, 3:4] - boxes[:, 1:2] + 1
    out = landmarks.astype(np.float32).copy()
    out[:, 0:5] = w * out[:, 0:5] + boxes[:, 0:1] - 1
    out[:, 5:10] = h * out[:, 5:10] + boxes[:, 1:2] - 1
    return out


def crop_boxes(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Boxes -> ``tf.image.crop_and_resize`` coordinates (y1, x1, y2, x2), normalized as the package does."""
    return boxes[:, [1, 0, 3, 2]] / np.asarray([[height, width, height, width]], dtype=np.float64)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Grey (H, W) or RGBA input is accepted too; detection only looks at RGB."""
    image = np.asarray(image)
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return image[:, :, :3]


def to_output(rows: np.ndarray, height: int, width: int) -> np.ndarray:
    """Package rows (box, score, x1..x5, y1..y5) -> our columns, boxes clipped to the image.

    Boxes are clipped to ``[0, width] x [0, height]`` (our boxes' max side is exclusive);
    landmarks are left as predicted, as the package does by default.
    """
    out = np.empty((len(rows), DETECTION_COLUMNS), dtype=np.float32)
    out[:, 0] = np.clip(rows[:, 0], 0, width)
    out[:, 1] = np.clip(rows[:, 1], 0, height)
    out[:, 2] = np.clip(rows[:, 2], 0, width)
    out[:, 3] = np.clip(rows[:, 3], 0, height)
    out[:, 4] = rows[:, 4]
    out[:, 5::2] = rows[:, 5:10]
    out[:, 6::2] = rows[:, 10:15]
    return out


def rnet_candidates(
    boxes: list[np.ndarray], offsets: np.ndarray, scores: np.ndarray, params: MTCNNParams
) -> list[np.ndarray]:
    """RNet's outputs for every image's boxes in one batch (rows beyond them, padding, are
    ignored) -> each image's boxes kept by RNet, refined, merged and squared for ONet."""
    out, first = [], 0
    for b in boxes:
        stop = first + len(b)
        kept = refine(b, offsets[first:stop])
        kept[:, 4] = scores[first:stop, 1]
        kept = kept[kept[:, 4] > params.threshold_rnet]
        out.append(to_square(nms(sort_desc(kept), params.nms_rnet, "union")))
        first = stop
    return out


def onet_detections(
    shapes: list[tuple[int, ...]],
    boxes: list[np.ndarray],
    offsets: np.ndarray,
    landmarks: np.ndarray,
    scores: np.ndarray,
    params: MTCNNParams,
) -> list[np.ndarray]:
    """ONet's outputs for every image's boxes in one batch -> each image's detections (see
    ``base.DETECTION_COLUMNS``), clipped to its ``shape`` (height, width, ...)."""
    empty = np.empty((0, DETECTION_COLUMNS), dtype=np.float32)
    out, first = [], 0
    for shape, b in zip(shapes, boxes, strict=True):
        stop = first + len(b)
        if not len(b):
            out.append(empty)
            continue
        marks = place_landmarks(landmarks[first:stop], b)
        kept = refine(b, offsets[first:stop])
        kept[:, 4] = scores[first:stop, 1]
        rows = np.concatenate([kept, marks.astype(np.float64)], axis=1)
        rows = rows[rows[:, 4] > params.threshold_onet]
        rows = nms(sort_desc(rows), params.nms_onet, "min")
        out.append(to_output(rows, shape[0], shape[1]))
        first = stop
    return out
