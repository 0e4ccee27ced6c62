"""MTCNN on the ONNX runtimes (OpenVINO, ONNX Runtime): FastMTCNN's stages and box arithmetic, no TensorFlow.

The three networks are the ``mtcnn`` package's, converted from its shipped weights by
``facecore.onnx_models`` (``mtcnn-{pnet,rnet,onet}.onnx``). Everything around them is
``fast_mtcnn``'s: the pyramid scales, thresholds, NMS and regression of ``fast_boxes`` (the
package's float64 arithmetic), and the two TensorFlow image ops in numpy/OpenCV (``pixel_ops``).
TensorFlow (``FastMTCNN``) stays the reference: tests/engine/test_onnx_runtime.py holds this
detector to it on the shared photos.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from facecore.detectors import fast_boxes as fb
from facecore.detectors.base import DETECTION_COLUMNS
from facecore.detectors.fast_boxes import MTCNNParams, as_rgb
from facecore.detectors.pixel_ops import area_resize, crop_and_resize
from facecore.runtime import installed

SMALL_LEVEL_PIXELS = 12_000
"""Pyramid levels under this area (about 110x110) run on ONNX Runtime next to OpenVINO."""


BATCH_BUCKET = 16


def pad_batch(patches: np.ndarray) -> np.ndarray:
    """Patches padded with zeros to a multiple of ``BATCH_BUCKET``: the runtime then sees a few
    batch sizes instead of one per candidate count, and keeps their set-up cached (outputs of
    the real rows are unchanged; callers read the first ``len(patches)`` rows)."""
    extra = -len(patches) % BATCH_BUCKET
    if not extra:
        return patches
    return np.concatenate([patches, np.zeros((extra, *patches.shape[1:]), patches.dtype)])


def normalize(image: np.ndarray) -> np.ndarray:
    """uint8 RGB -> the package's input range; (v - 127.5) / 128 is exact in float32."""
    out = image.astype(np.float32)
    out -= 127.5
    out /= 128
    return out


class StageTimer:
    """Seconds spent per stage (and per pyramid level), summed over calls; ``None`` costs nothing."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def add(self, key: str, start: float) -> float:
        now = time.perf_counter()
        self.seconds[key] += now - start
        return now


class OnnxMTCNN:
    """Detector protocol implementation (``facecore.detectors.base.Detector``) on ONNX files."""

    name = "mtcnn-onnx"

    def __init__(self, paths: list[Path], executor: str, params: MTCNNParams | None = None) -> None:
        from facecore.runtime import Net

        self.params = params or MTCNNParams()
        pnet, rnet, onet = paths
        self._pnet = Net(pnet, executor)
        # OpenVINO spends ~2 ms setting up each call on a new shape, more than a small level's
        # arithmetic: the small levels go to ONNX Runtime (microseconds per call) when it is here.
        self._small_pnet = None
        if executor == "openvino" and installed("onnxruntime"):
            self._small_pnet = Net(pnet, "onnxruntime", threads=1)
        self._rnet = Net(rnet, executor)
        self._onet = Net(onet, executor)
        self.executor = executor
        self._lock = threading.Lock()
        self._resizer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mtcnn-resize")
        self.timer: StageTimer | None = None
        self._warm_up()

    def _warm_up(self) -> None:
        self._pnet.run({"image": np.zeros((1, 12, 12, 3), np.float32)})
        self._rnet.run({"patches": np.zeros((1, 24, 24, 3), np.float32)})
        self._onet.run({"patches": np.zeros((1, 48, 48, 3), np.float32)})

    def _tick(self, key: str, start: float) -> float:
        return self.timer.add(key, start) if self.timer is not None else start

    # -- stages -------------------------------------------------------------------------------

    def _proposals(self, image: np.ndarray, min_face_size: int) -> np.ndarray:
        """PNet over the image pyramid -> square candidate boxes, best first."""
        p = self.params
        height, width = image.shape[:2]
        levels = fb.pyramid_levels(height, width, min_face_size, p.scale_factor)
        per_level = self._pyramid_in_order(image, levels)
        if not per_level:
            return np.empty((0, 5), dtype=np.float64)
        start = time.perf_counter()
        boxes = fb.sort_desc(np.concatenate(per_level, axis=0))
        out = fb.to_square(fb.nms(boxes, p.nms_pnet_all, "union"))
        self._tick("pnet nms", start)
        return out

    def _net_for(self, level: np.ndarray):
        if self._small_pnet is not None and level.shape[0] * level.shape[1] < SMALL_LEVEL_PIXELS:
            return self._small_pnet
        return self._pnet

    def _pyramid_in_order(self, image: np.ndarray, levels: list) -> list[np.ndarray]:
        """One PNet call at a time (all threads each); the resizes run ahead on a helper thread,
        as TensorFlow's executor overlaps them in fast_pnet's graph."""
        p = self.params
        per_level = []
        resized = [self._resizer.submit(area_resize, image, size) for _, size in levels]
        for k, ((scale, _), future) in enumerate(zip(levels, resized, strict=True)):
            start = time.perf_counter()
            level = future.result()
            start = self._tick(f"pnet resize wait L{k}", start)
            reg, prob = self._net_for(level).run({"image": level[None]})
            start = self._tick(f"pnet net L{k}", start)
            boxes = fb.pnet_boxes(reg[0].transpose(1, 2, 0), prob[0], p.threshold_pnet, scale)
            per_level.append(fb.nms(boxes, p.nms_pnet_scale, "union"))
            self._tick(f"pnet boxes L{k}", start)
        return per_level

    def _patches(self, images: list[np.ndarray], boxes: list[np.ndarray], side: int) -> np.ndarray:
        crops = [
            crop_and_resize(img, fb.crop_boxes(b, img.shape[0], img.shape[1]), side)
            for img, b in zip(images, boxes, strict=True)
            if len(b)
        ]
        return np.concatenate(crops, axis=0)

    def _refine_rnet(self, images: list[np.ndarray], boxes: list[np.ndarray]) -> list[np.ndarray]:
        p = self.params
        if not any(len(b) for b in boxes):
            return boxes
        start = time.perf_counter()
        patches = self._patches(images, boxes, 24)
        start = self._tick("rnet crop", start)
        offsets, scores = self._rnet.run({"patches": pad_batch(patches)})
        start = self._tick("rnet net", start)
        out = fb.rnet_candidates(boxes, offsets, scores, p)
        self._tick("rnet boxes", start)
        return out

    def _refine_onet(self, images: list[np.ndarray], boxes: list[np.ndarray]) -> list[np.ndarray]:
        p = self.params
        empty = np.empty((0, DETECTION_COLUMNS), dtype=np.float32)
        if not any(len(b) for b in boxes):
            return [empty for _ in boxes]
        start = time.perf_counter()
        patches = self._patches(images, boxes, 48)
        start = self._tick("onet crop", start)
        offsets, landmarks, scores = self._onet.run({"patches": pad_batch(patches)})
        start = self._tick("onet net", start)
        out = fb.onet_detections([img.shape for img in images], boxes, offsets, landmarks, scores, p)
        self._tick("onet boxes", start)
        return out

    # -- protocol -----------------------------------------------------------------------------

    def detect(self, images: list[np.ndarray], min_face_size: int = 20) -> list[np.ndarray]:
        """RGB uint8 arrays -> one (K, 15) float32 array per image (see ``base.DETECTION_COLUMNS``)."""
        if not images:
            return []
        with self._lock:
            start = time.perf_counter()
            normalized = [normalize(as_rgb(img)) for img in images]
            self._tick("normalize", start)
            boxes = [self._proposals(img, min_face_size) for img in normalized]
            boxes = self._refine_rnet(normalized, boxes)
            return self._refine_onet(normalized, boxes)
