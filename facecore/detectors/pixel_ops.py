"""TensorFlow's two image ops that MTCNN uses, in numpy: ``resize_area`` and ``crop_and_resize``.

The ONNX detector must feed its networks the same pixels TensorFlow feeds them (the reference is
``fast_mtcnn``, which is the ``mtcnn`` package), without importing TensorFlow:

* ``area_resize`` is ``tf.image.resize(..., method=AREA)`` (TF's ``ResizeArea`` kernel, no corner
  alignment): each output pixel is the mean of the input over its footprint, fractional pixels at
  the edges weighted by their overlap; OpenCV's ``INTER_AREA`` computes the same thing (numpy
  needed 10-40x TensorFlow's time for it);
* ``crop_and_resize`` is ``tf.image.crop_and_resize`` (bilinear, extrapolation value 0) on
  normalized ``(y1, x1, y2, x2)`` boxes, with TF's float32 sampling arithmetic.
"""

from __future__ import annotations

import numpy as np

_CV2 = None


def opencv():
    """OpenCV, single-threaded: its resize threads fought the inference threads for the cores
    (20 ms more CPU per image with them, and slower detection); the resizes run on a helper
    thread beside PNet instead (``OnnxMTCNN``)."""
    global _CV2
    if _CV2 is None:
        import cv2

        cv2.setNumThreads(1)
        _CV2 = cv2
    return _CV2


def area_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, C) float32 -> (h, w, C) float32, as ``tf.image.resize(image, size, method="area")``.

    OpenCV's ``INTER_AREA`` downscale is the same overlap-weighted mean (|Δ| < 1e-4 on images in
    [-1, 1], float rounding); it is SIMD code, as fast as TensorFlow's kernel.
    """
    cv2 = opencv()
    height, width = size
    image = np.ascontiguousarray(image, dtype=np.float32)
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def crop_and_resize(image: np.ndarray, boxes: np.ndarray, side: int) -> np.ndarray:
    """(H, W, C) float32 image, (N, 4) normalized y1, x1, y2, x2 boxes -> (N, side, side, C) float32.

    Bilinear sampling as ``tf.image.crop_and_resize(image[None], boxes, zeros, (side, side))``:
    sample ``k`` of a box lies at ``y1 * (H - 1) + k * (y2 - y1) * (H - 1) / (side - 1)``; samples
    outside the image are 0.
    """
    height, width = image.shape[:2]
    boxes = np.asarray(boxes, dtype=np.float32)
    if len(boxes) == 0:
        return np.zeros((0, side, side, image.shape[2]), np.float32)
    steps = np.arange(side, dtype=np.float32)

    def samples(lo: np.ndarray, hi: np.ndarray, extent: int) -> tuple:
        span = np.float32(extent - 1)
        scale = (hi - lo) * span / np.float32(side - 1)
        at = lo[:, None] * span + steps[None, :] * scale[:, None]  # (N, side) float32
        inside = (at >= 0) & (at <= span)
        low = np.floor(at)
        lerp = (at - low).astype(np.float32)
        low_i = np.clip(low.astype(np.intp), 0, extent - 1)
        high_i = np.clip(np.ceil(at).astype(np.intp), 0, extent - 1)
        return low_i, high_i, lerp, inside

    top, bottom, y_lerp, y_in = samples(boxes[:, 0], boxes[:, 2], height)
    left, right, x_lerp, x_in = samples(boxes[:, 1], boxes[:, 3], width)
    # One flat index per sample: numpy's take on (H*W, C) rows is ~3x its two-array fancy indexing.
    pixels = image.reshape(-1, image.shape[2])
    ty, by = (top * width)[:, :, None], (bottom * width)[:, :, None]
    lx, rx = left[:, None, :], right[:, None, :]
    shape = (len(boxes), side, side, image.shape[2])
    tl, tr, bl, br = (
        pixels.take((y + x).ravel(), axis=0).reshape(shape)
        for y, x in ((ty, lx), (ty, rx), (by, lx), (by, rx))
    )
    xl = x_lerp[:, None, :, None]
    top_row = tl + (tr - tl) * xl
    bottom_row = bl + (br - bl) * xl
    out = top_row + (bottom_row - top_row) * y_lerp[:, :, None, None]
    mask = y_in[:, :, None] & x_in[:, None, :]
    out[~mask] = 0.0
    return out.astype(np.float32, copy=False)
