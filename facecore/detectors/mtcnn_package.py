"""The PyPI ``mtcnn`` package as a ``Detector``.

mtcnn 1.0 batches a list of images by padding them all to the largest one; we pad to the
top-left ourselves (so no coordinate offsets need undoing) and group images of similar size so
padding does not multiply the work. Its own post-processing is skipped: it pairs padding
offsets with image ids wrongly when an image in the batch has no face.
"""

from __future__ import annotations

import threading

import numpy as np

from facecore.detectors.base import DETECTION_COLUMNS

MAX_PADDING_OVERHEAD = 1.3
"""A batch group's padded area may be at most this x the sum of its images' areas."""

MAX_GROUP_SIZE = 16

NATIVE_MIN_FACE_SIZE = 20
"""mtcnn's pyramid breaks above this (see ``MTCNNPackageDetector.detect``)."""


def pick_device() -> str:
    """``GPU:0`` when TensorFlow sees a GPU, else ``CPU:0``."""
    import tensorflow as tf

    return "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"


def group_by_size(shapes: list[tuple[int, int]]) -> list[list[int]]:
    """Indices grouped so that padding each group to its largest member wastes little."""
    # Portrait and landscape apart (padding one to the other doubles the area), then by area.
    order = sorted(
        range(len(shapes)), key=lambda i: (shapes[i][0] > shapes[i][1], shapes[i][0] * shapes[i][1])
    )
    groups: list[list[int]] = []
    for i in order:
        if groups and len(groups[-1]) < MAX_GROUP_SIZE:
            candidate = groups[-1] + [i]
            max_h = max(shapes[j][0] for j in candidate)
            max_w = max(shapes[j][1] for j in candidate)
            total = sum(shapes[j][0] * shapes[j][1] for j in candidate)
            if max_h * max_w * len(candidate) <= MAX_PADDING_OVERHEAD * total:
                groups[-1] = candidate
                continue
        groups.append([i])
    return groups


def rows_from_mtcnn(raw: np.ndarray, image_index: int, shape: tuple[int, int]) -> np.ndarray:
    """mtcnn's (n, 16) rows [id, x1, y1, x2, y2, p, lx1..lx5, ly1..ly5] -> our (K, 15) for one image."""
    rows = raw[raw[:, 0] == image_index] if len(raw) else raw
    out = np.zeros((len(rows), DETECTION_COLUMNS), dtype=np.float32)
    if not len(rows):
        return out
    h, w = shape
    out[:, 0] = np.clip(rows[:, 1], 0, w)
    out[:, 1] = np.clip(rows[:, 2], 0, h)
    out[:, 2] = np.clip(rows[:, 3], 0, w)
    out[:, 3] = np.clip(rows[:, 4], 0, h)
    out[:, 4] = rows[:, 5]
    out[:, 5::2] = rows[:, 6:11]
    out[:, 6::2] = rows[:, 11:16]
    return out


class MTCNNPackageDetector:
    """``mtcnn.MTCNN`` (weights shipped in the package), loaded once per instance."""

    name = "mtcnn"

    def __init__(self, device: str | None = None) -> None:
        from mtcnn import MTCNN

        self.device = device or pick_device()
        self._mtcnn = MTCNN(device=self.device)
        self._lock = threading.Lock()

    def detect(self, images: list[np.ndarray], min_face_size: int) -> list[np.ndarray]:
        """mtcnn 1.0 counts pyramid levels from the image size alone, so with ``min_face_size``
        above 20 its last levels shrink below PNet's 12 px input and it crashes. Instead we shrink
        the images so a ``min_face_size`` face becomes 20 px, run at 20 (the same first pyramid
        scale), and scale the coordinates back."""
        factor = min(1.0, NATIVE_MIN_FACE_SIZE / max(1, min_face_size))
        inputs = [_shrink(np.asarray(im), factor) for im in images]
        results = self._detect(inputs, min(min_face_size, NATIVE_MIN_FACE_SIZE))
        for rows, original, used in zip(results, images, inputs, strict=True):
            if used is not original and len(rows):
                sx, sy = original.shape[1] / used.shape[1], original.shape[0] / used.shape[0]
                rows[:, [0, 2, 5, 7, 9, 11, 13]] *= sx
                rows[:, [1, 3, 6, 8, 10, 12, 14]] *= sy
        return results

    def _detect(self, images: list[np.ndarray], min_face_size: int) -> list[np.ndarray]:
        results: list[np.ndarray] = [np.zeros((0, DETECTION_COLUMNS), np.float32)] * len(images)
        shapes = [(int(im.shape[0]), int(im.shape[1])) for im in images]
        for group in group_by_size(shapes):
            batch = [np.asarray(images[i], dtype=np.float32) for i in group]
            with self._lock:
                raw = self._mtcnn.detect_faces(
                    batch,
                    output_type="numpy",
                    box_format="xyxy",
                    postprocess=False,
                    batch_stack_justification="topleft",
                    min_face_size=min_face_size,
                )
            raw = np.asarray(raw, dtype=np.float64).reshape(-1, 16) if np.size(raw) else np.zeros((0, 16))
            for position, i in enumerate(group):
                results[i] = rows_from_mtcnn(raw, position, shapes[i])
        return results


def _shrink(image: np.ndarray, factor: float) -> np.ndarray:
    if factor >= 1.0:
        return image
    from PIL import Image

    h, w = image.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(
        Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).resize(size, Image.Resampling.BILINEAR)
    )
