"""MTCNN with the ``mtcnn`` package's networks and weights, run with less overhead.

The PyPI ``mtcnn`` 1.0.0 detector spends much of its time on eager Keras calls (one per pyramid
level and stage) and Python glue.  This detector keeps the package's networks, weights,
thresholds and box arithmetic (``fast_boxes``) but:

* runs the whole PNet pyramid of an image in one graph call (``fast_pnet``);
* runs RNet and ONet once per stage for *all* candidates of *all* images in the call, through
  ``tf.function``s with shape-polymorphic signatures (traced once, no ``model.predict``).

Images are never padded to a common size (padding would change PNet's border cells and the
crop arithmetic), so a batch finds what its images find one at a time, and on real photos
the output is the package's up to float rounding (|Δp| < 1e-6, < 0.001 px on the shared photos).
"""

from __future__ import annotations

import threading

import numpy as np
import tensorflow as tf

from facecore.detectors import fast_boxes as fb
from facecore.detectors.base import DETECTION_COLUMNS
from facecore.detectors.fast_boxes import MTCNNParams, as_rgb
from facecore.detectors.fast_pnet import PNetPyramid


def _load_networks() -> tuple[tf.keras.Model, tf.keras.Model, tf.keras.Model]:
    """The package's three networks with its shipped weights (no download)."""
    from mtcnn.network.onet import ONet
    from mtcnn.network.pnet import PNet
    from mtcnn.network.rnet import RNet
    from mtcnn.utils.tensorflow import load_weights

    nets = []
    for cls, weights in ((PNet, "pnet.lz4"), (RNet, "rnet.lz4"), (ONet, "onet.lz4")):
        net = cls()
        net.build()
        net.set_weights(load_weights(weights))
        nets.append(net)
    return nets[0], nets[1], nets[2]


def _normalize(image: np.ndarray) -> tf.Tensor:
    """uint8 RGB -> the package's input range; (v - 127.5) / 128 is exact in float32."""
    out = image.astype(np.float32)
    out -= 127.5
    out /= 128
    return tf.convert_to_tensor(out)


class FastMTCNN:
    """Detector protocol implementation (``facecore.detectors.base.Detector``)."""

    name = "mtcnn-fast"

    def __init__(self, params: MTCNNParams | None = None) -> None:
        self.params = params or MTCNNParams()
        self._pnet, self._rnet, self._onet = _load_networks()
        self._lock = threading.Lock()
        self._pnet_pyramid = PNetPyramid(self._pnet)
        self._rnet_call = tf.function(
            lambda x: self._rnet(x, training=False),
            input_signature=[tf.TensorSpec([None, 24, 24, 3], tf.float32)],
        )
        self._onet_call = tf.function(
            lambda x: self._onet(x, training=False),
            input_signature=[tf.TensorSpec([None, 48, 48, 3], tf.float32)],
        )
        self._warm_up()

    def _warm_up(self) -> None:
        """Trace the three graphs now (a few seconds), so the first request does not pay for it."""
        self._pnet_pyramid(tf.zeros((24, 24, 3)), [(24, 24)])
        self._rnet_call(tf.zeros((1, 24, 24, 3)))
        self._onet_call(tf.zeros((1, 48, 48, 3)))

    # -- stages -------------------------------------------------------------------------------

    def _proposals(self, image: tf.Tensor, min_face_size: int) -> np.ndarray:
        """PNet over the image pyramid -> square candidate boxes, best first."""
        p = self.params
        height, width = image.shape[:2]
        levels = fb.pyramid_levels(height, width, min_face_size, p.scale_factor)
        per_level = []
        outputs = self._pnet_pyramid(image, [size for _, size in levels]) if levels else []
        for (scale, _), (reg, prob) in zip(levels, outputs, strict=True):
            boxes = fb.pnet_boxes(reg, prob, p.threshold_pnet, scale)
            per_level.append(fb.nms(boxes, p.nms_pnet_scale, "union"))
        if not per_level:
            return np.empty((0, 5), dtype=np.float64)
        boxes = fb.sort_desc(np.concatenate(per_level, axis=0))
        return fb.to_square(fb.nms(boxes, p.nms_pnet_all, "union"))

    def _patches(self, images: list[tf.Tensor], boxes: list[np.ndarray], side: int) -> tf.Tensor:
        # Eager, one op per image: the crop is cheap, and cropping each image from its own
        # unpadded tensor keeps the package's coordinate arithmetic exactly.
        crops = [
            tf.image.crop_and_resize(
                img[None],
                fb.crop_boxes(b, img.shape[0], img.shape[1]).astype(np.float32),
                np.zeros(len(b), np.int32),
                (side, side),
            )
            for img, b in zip(images, boxes, strict=True)
            if len(b)
        ]
        return tf.concat(crops, axis=0)

    def _refine_rnet(self, images: list[tf.Tensor], boxes: list[np.ndarray]) -> list[np.ndarray]:
        p = self.params
        if not any(len(b) for b in boxes):
            return boxes
        offsets, scores = (t.numpy() for t in self._rnet_call(self._patches(images, boxes, 24)))
        return fb.rnet_candidates(boxes, offsets, scores, p)

    def _refine_onet(self, images: list[tf.Tensor], boxes: list[np.ndarray]) -> list[np.ndarray]:
        p = self.params
        empty = np.empty((0, DETECTION_COLUMNS), dtype=np.float32)
        if not any(len(b) for b in boxes):
            return [empty for _ in boxes]
        offsets, landmarks, scores = (t.numpy() for t in self._onet_call(self._patches(images, boxes, 48)))
        return fb.onet_detections([img.shape for img in images], boxes, offsets, landmarks, scores, p)

    # -- protocol -----------------------------------------------------------------------------

    def detect(self, images: list[np.ndarray], min_face_size: int = 20) -> list[np.ndarray]:
        """RGB uint8 arrays -> one (K, 15) float32 array per image (see ``base.DETECTION_COLUMNS``)."""
        if not images:
            return []
        normalized = [_normalize(as_rgb(img)) for img in images]
        with self._lock:
            boxes = [self._proposals(img, min_face_size) for img in normalized]
            boxes = self._refine_rnet(normalized, boxes)
            return self._refine_onet(normalized, boxes)
