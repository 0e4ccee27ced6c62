"""PNet over a whole image pyramid in one TensorFlow graph call.

The layers are the ``mtcnn`` package's PNet, written with plain ``tf.nn`` ops on its weights
(the same arithmetic, so the same numbers, but a graph that traces much faster than the Keras
model).  One call takes an image and up to ``MAX_LEVELS`` level sizes; each level (area resize +
PNet) sits in its own ``tf.cond`` slot, so unused slots cost nothing, the graph is traced once
for all images and level counts, and the executor overlaps the (single-threaded) resizes and
the small levels with the big ones.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

MAX_LEVELS = 12
"""Slots per call: enough for any image up to 1024 px (longer side); bigger pyramids take more calls."""


def _prelu(x: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
    # Keras' PReLU is relu(x) - alpha * relu(-x); this is the same value, bit for bit.
    return tf.maximum(x, 0.0) + alpha * tf.minimum(x, 0.0)


class PNetPyramid:
    def __init__(self, pnet: tf.keras.Model) -> None:
        weights = {w.path.split("/", 1)[1]: tf.constant(w.numpy()) for w in pnet.weights}
        self._w = weights
        signature = [
            tf.TensorSpec([None, None, 3], tf.float32),
            tf.TensorSpec([MAX_LEVELS, 2], tf.int32),
            tf.TensorSpec([MAX_LEVELS], tf.bool),
        ]
        self._call = tf.function(self._graph, input_signature=signature)

    def _pnet(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        w = self._w
        x = _prelu(tf.nn.conv2d(x, w["conv1/kernel"], 1, "VALID") + w["conv1/bias"], w["prelu1/alpha"])
        x = tf.nn.max_pool2d(x, 2, 2, "SAME")
        x = _prelu(tf.nn.conv2d(x, w["conv2/kernel"], 1, "VALID") + w["conv2/bias"], w["prelu2/alpha"])
        x = _prelu(tf.nn.conv2d(x, w["conv3/kernel"], 1, "VALID") + w["conv3/bias"], w["prelu3/alpha"])
        reg = tf.nn.conv2d(x, w["conv4-1/kernel"], 1, "VALID") + w["conv4-1/bias"]
        cls = tf.nn.softmax(tf.nn.conv2d(x, w["conv4-2/kernel"], 1, "VALID") + w["conv4-2/bias"])
        return reg[0], cls[0, :, :, 1]

    def _graph(
        self, image: tf.Tensor, sizes: tf.Tensor, active: tf.Tensor
    ) -> list[tuple[tf.Tensor, tf.Tensor]]:
        outputs = []
        for i in range(MAX_LEVELS):

            def level(i: int = i) -> tuple[tf.Tensor, tf.Tensor]:
                return self._pnet(tf.image.resize(image[None], sizes[i], method=tf.image.ResizeMethod.AREA))

            def skip() -> tuple[tf.Tensor, tf.Tensor]:
                return tf.zeros((0, 0, 4)), tf.zeros((0, 0))

            outputs.append(tf.cond(active[i], level, skip))
        return outputs

    def __call__(self, image: tf.Tensor, sizes: list[tuple[int, int]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """PNet's (regression (h, w, 4), face probability (h, w)) for each level size of ``image``."""
        results = []
        for start in range(0, len(sizes), MAX_LEVELS):
            chunk = sizes[start : start + MAX_LEVELS]
            padded = np.full((MAX_LEVELS, 2), 12, np.int32)
            padded[: len(chunk)] = chunk
            active = np.arange(MAX_LEVELS) < len(chunk)
            outputs = self._call(image, padded, active)
            results += [(reg.numpy(), prob.numpy()) for reg, prob in outputs[: len(chunk)]]
        return results
