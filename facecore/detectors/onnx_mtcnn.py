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
from facecore.detectors import pnet_padding as padding
from facecore.detectors.base import DETECTION_COLUMNS
from facecore.detectors.fast_boxes import MTCNNParams, as_rgb
from facecore.detectors.pixel_ops import area_resize, crop_and_resize
from facecore.runtime import installed

SMALL_LEVEL_PIXELS = 12_000
"""Pyramid levels under this area (about 110x110) run on ONNX Runtime next to OpenVINO."""


COMMON_ASPECTS = ((4, 3), (3, 2), (16, 9), (1, 1))
"""Width:height of the usual camera frames and photos, whose shapes a worker sets up at start."""

RNET_CHUNKS = (16, 32, 64, 128)
ONET_CHUNKS = (4, 8, 16, 32)
"""Batch sizes RNet and ONet are run with: candidates go in chunks of the largest, the last one
padded with zeros up to the smallest that holds it. OpenVINO sets up each new batch size
(4-80 ms, more than the call) and keeps a limited number; one batch per call, padded to
multiples of 16, gave a new size on most calls of several images. Four sizes each are set up
once (``OnnxMTCNN.warm_shapes`` at worker start) and cost 10-20% per patch over one large batch."""


def run_in_chunks(net, patches: np.ndarray, sizes: tuple[int, ...]) -> list[np.ndarray]:
    """``net`` over ``patches`` in batches of the given ``sizes`` -> its outputs, one row per patch."""
    outputs: list[list[np.ndarray]] = []
    largest = sizes[-1]
    for start in range(0, len(patches), largest):
        chunk = patches[start : start + largest]
        size = next(s for s in sizes if s >= len(chunk))
        if size > len(chunk):
            chunk = np.concatenate([chunk, np.zeros((size - len(chunk), *chunk.shape[1:]), chunk.dtype)])
        outputs.append([out[: len(patches) - start] for out in net.run({"patches": chunk})])
    return [np.concatenate(parts) for parts in zip(*outputs, strict=True)]


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

    def _prepare(self, image: np.ndarray, min_face_size: int) -> tuple[list, list]:
        """Queue the image's pyramid levels on the helper thread -> (levels, their futures)."""
        height, width = image.shape[:2]
        levels = fb.pyramid_levels(height, width, min_face_size, self.params.scale_factor)
        return levels, [self._resizer.submit(self._level, image, size) for _, size in levels]

    def _proposals(self, levels: list, prepared: list) -> np.ndarray:
        """PNet over a prepared image pyramid -> square candidate boxes, best first."""
        p = self.params
        per_level = self._pyramid_in_order(levels, prepared)
        if not per_level:
            return np.empty((0, 5), dtype=np.float64)
        start = time.perf_counter()
        boxes = fb.sort_desc(np.concatenate(per_level, axis=0))
        out = fb.to_square(fb.nms(boxes, p.nms_pnet_all, "union"))
        self._tick("pnet nms", start)
        return out

    def _on_small_pnet(self, size: tuple[int, int]) -> bool:
        return self._small_pnet is not None and size[0] * size[1] < SMALL_LEVEL_PIXELS

    def _padded(self) -> bool:
        """Levels on OpenVINO are padded when ONNX Runtime is here for their exact edges."""
        return self._small_pnet is not None

    def _level(self, image: np.ndarray, size: tuple[int, int]):
        """Resize to one pyramid level -> (the network that runs it, its input, exact edges).

        On OpenVINO with ONNX Runtime beside it, the level is padded (``pnet_padding``) and the
        edges the padding would change are computed here, on this helper thread."""
        level = area_resize(image, size)
        small = self._small_pnet
        if self._on_small_pnet(size):
            return small, level[None], None
        if not self._padded():
            return self._pnet, level[None], None
        edges = padding.exact_edges(lambda strip: small.run({"image": strip})[0], level)
        return self._pnet, padding.canvas(level), edges

    def warm_shapes(self, max_side: int, min_face_size: int = 20) -> int:
        """Set OpenVINO up for the shapes the usual photos need, so the first jobs don't pay it.

        PNet's (padded) levels for the detection copy of each ``COMMON_ASPECTS`` frame at
        ``max_side``, either way up, and the RNet/ONet batch sizes. Returns the number of shapes.
        """
        shapes = set()
        for ratio_w, ratio_h in COMMON_ASPECTS:
            short = round(max_side * ratio_h / ratio_w)
            for height, width in ((short, max_side), (max_side, short)):
                for _, size in fb.pyramid_levels(height, width, min_face_size, self.params.scale_factor):
                    if not self._on_small_pnet(size):
                        shapes.add(padding.padded_shape(*size) if self._padded() else size)
        with self._lock:
            for shape in sorted(shapes):
                self._pnet.run({"image": np.zeros((1, *shape, 3), np.float32)})
            for net, side, sizes in ((self._rnet, 24, RNET_CHUNKS), (self._onet, 48, ONET_CHUNKS)):
                for n in sizes:
                    net.run({"patches": np.zeros((n, side, side, 3), np.float32)})
        return len(shapes) + len(RNET_CHUNKS) + len(ONET_CHUNKS)

    def _pyramid_in_order(self, levels: list, prepared: list) -> list[np.ndarray]:
        """One PNet call at a time (all threads each); the resizes run ahead on a helper thread,
        as TensorFlow's executor overlaps them in fast_pnet's graph."""
        p = self.params
        per_level = []
        for k, ((scale, (height, width)), future) in enumerate(zip(levels, prepared, strict=True)):
            start = time.perf_counter()
            net, batch, edges = future.result()
            start = self._tick(f"pnet resize wait L{k}", start)
            (maps,) = net.run({"image": batch})
            start = self._tick(f"pnet net L{k}", start)
            reg, prob = padding.level_maps(maps, height, width, edges)
            boxes = fb.pnet_boxes(reg, prob, p.threshold_pnet, scale)
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
        offsets, scores = run_in_chunks(self._rnet, patches, RNET_CHUNKS)
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
        offsets, landmarks, scores = run_in_chunks(self._onet, patches, ONET_CHUNKS)
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
            boxes = []
            following = self._prepare(normalized[0], min_face_size)
            for k in range(len(normalized)):
                current = following
                if k + 1 < len(normalized):  # the helper thread resizes one image ahead
                    following = self._prepare(normalized[k + 1], min_face_size)
                boxes.append(self._proposals(*current))
            boxes = self._refine_rnet(normalized, boxes)
            return self._refine_onet(normalized, boxes)
