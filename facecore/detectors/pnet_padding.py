"""PNet on a pyramid level padded to a bucketed size, with the maps of the level alone.

Why pad: OpenVINO sets up each new input shape (kernels and buffers: 3-12 ms a call, more than a
mid-size level's arithmetic) and keeps the set-ups of its last ``runtime.OPENVINO_SHAPE_CACHE``
shapes. Photos of many sizes give more level shapes than that (212 over the 64 shared photos),
so nearly every call paid the set-up; padded to multiples of ``BUCKET`` they give 40.

Why the edges need care: PNet's first max pool is TensorFlow's ``SAME``. When a level's height is
odd, conv1 has an odd number of rows and the last pool window holds one row; on a padded canvas
that window also holds a row computed partly from the padding, so the map's last row can differ
(the last column likewise for an odd width). Every other cell sees only the level's pixels. The
last row and column are therefore computed again from the level's last ``STRIP`` rows (columns)
alone, at their exact size, on an executor without per-shape set-up (ONNX Runtime).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facecore.detectors.fast_boxes import PNET_CELL

BUCKET = 64
"""Padded heights and widths are multiples of this (18% more pixels on the shared photos)."""

STRIP = PNET_CELL - 1
"""The level rows (columns) that the last map row (column) of an odd side sees: its 12-pixel cell
less the one row (column) past the level's edge."""

RunPNet = Callable[[np.ndarray], np.ndarray]
"""(1, H, W, 3) float32 -> PNet's maps (1, 5, h, w) (``onnx_graphs.build_pnet``)."""


def padded_size(size: int, bucket: int = BUCKET) -> int:
    return -(-size // bucket) * bucket


def padded_shape(height: int, width: int, bucket: int = BUCKET) -> tuple[int, int]:
    """The (height, width) a level of this size is run at."""
    return padded_size(height, bucket), padded_size(width, bucket)


def map_size(size: int) -> int:
    """PNet's map size along one side of a level: conv 3 (valid), pool 2 (``SAME``), conv 3, conv 3."""
    return (size - 1) // 2 - 4


def canvas(level: np.ndarray, bucket: int = BUCKET) -> np.ndarray:
    """(H, W, 3) float32 level -> (1, H', W', 3) with H', W' multiples of ``bucket``, zeros after."""
    height, width = level.shape[:2]
    shape = padded_shape(height, width, bucket)
    if shape == (height, width):
        return level[None]
    out = np.zeros((1, *shape, 3), np.float32)
    out[0, :height, :width] = level
    return out


def exact_edges(run: RunPNet, level: np.ndarray, bucket: int = BUCKET) -> dict[str, np.ndarray]:
    """The maps' last row and/or column, from the level alone, for the sides a canvas gets wrong.

    ``{"row": (5, 1, w), "col": (5, h, 1)}``, each present only for an odd side that is padded.
    """
    height, width = level.shape[:2]
    edges = {}
    if height % 2 and padded_size(height, bucket) != height:
        edges["row"] = run(np.ascontiguousarray(level[None, height - STRIP :]))[0]
    if width % 2 and padded_size(width, bucket) != width:
        edges["col"] = run(np.ascontiguousarray(level[None, :, width - STRIP :]))[0]
    return edges


def level_maps(
    maps: np.ndarray, height: int, width: int, edges: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Maps of a (padded) call -> the level's (offsets (h, w, 4), face probability (h, w))."""
    rows, cols = map_size(height), map_size(width)
    own = maps[0, :, :rows, :cols]
    if edges:
        own = own.copy()
        if "row" in edges:
            own[:, -1:, :] = edges["row"]
        if "col" in edges:
            own[:, :, -1:] = edges["col"]
    with np.errstate(over="ignore"):  # exp(-logit) -> inf for a sure background: prob 0
        prob = 1.0 / (1.0 + np.exp(-own[0]))
    return own[1:].transpose(1, 2, 0), prob
