"""Crop and pixel-normalisation helpers shared by the embedding models."""

from __future__ import annotations

import numpy as np
from PIL import Image

from facecore.types import Box


def margin_crop(image: np.ndarray, box: Box, margin: float, size: int) -> np.ndarray:
    """Cut ``box`` grown by ``margin * max(w, h)`` on each side, clipped to the image, resized to size x size.

    Bilinear resize of an RGB uint8 image; returns (size, size, 3) uint8.
    """
    height, width = image.shape[:2]
    grow = margin * max(box.width, box.height)
    x0 = int(max(0, np.floor(box.x_min - grow)))
    y0 = int(max(0, np.floor(box.y_min - grow)))
    x1 = int(min(width, np.ceil(box.x_max + grow)))
    y1 = int(min(height, np.ceil(box.y_max + grow)))
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"face box {box} lies outside the {width}x{height} image")
    patch = Image.fromarray(np.ascontiguousarray(image[y0:y1, x0:x1]))
    return np.asarray(patch.resize((size, size), Image.BILINEAR), dtype=np.uint8)


def prewhiten(crops: np.ndarray) -> np.ndarray:
    """Per-image standardisation used to train FaceNet 20170512: (x - mean) / max(std, 1/sqrt(size))."""
    x = crops.astype(np.float32)
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    std = x.std(axis=axes, keepdims=True)
    floor = 1.0 / np.sqrt(x[0].size)
    return (x - mean) / np.maximum(std, floor)


def fixed_standardize(crops: np.ndarray) -> np.ndarray:
    """(x - 127.5) / 128, the fixed scaling FaceNet 20180408 was trained with."""
    return (crops.astype(np.float32) - 127.5) / 128.0
