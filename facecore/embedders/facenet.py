"""FaceNet 20170512-110547 (Inception-ResNet-v1, 128-d), written in Keras code.

The weights come from nyoki-mtl's Keras 2 conversion (``facenet_keras.h5``, see facecore/fetch.py).
Keras 3 cannot ``load_model`` that file (its Lambda layers are Python 3.6 bytecode), so the network
is built here with the same layer names and the weights are copied in layer by layer with h5py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facecore.embedders.base import l2_normalize
from facecore.embedders.crop import margin_crop, prewhiten
from facecore.fetch import require_weights
from facecore.types import Face

INPUT_SIZE = 160
MARGIN = 0.10
"""Crop grows the detector box by 10% of its longer side on each side (best on the pivot pairs)."""
THRESHOLD = 1.05
"""Euclidean distance on unit vectors; calibrated with bench/calibrate.py (docs/models.md)."""
BATCH_SIZE = 32

_BN_MOMENTUM = 0.995
_BN_EPSILON = 0.001


def _keras():
    import keras

    return keras


def _scale_sum_layer():
    keras = _keras()

    class ScaleSum(keras.layers.Layer):
        """``shortcut + residual * scale``: the Lambda layers of the original model."""

        def __init__(self, scale: float, **kwargs) -> None:
            super().__init__(**kwargs)
            self.scale = float(scale)

        def call(self, inputs):
            return inputs[0] + inputs[1] * self.scale

        def get_config(self) -> dict:
            return {**super().get_config(), "scale": self.scale}

    return ScaleSum


def build_inception_resnet_v1(dimension: int = 128, dropout_rate: float = 0.2):
    """Inception-ResNet-v1 as in davidsandberg/facenet, with the layer names of facenet_keras.h5."""
    keras = _keras()
    layers = keras.layers
    scale_sum = _scale_sum_layer()

    def conv_bn(
        x, filters: int, kernel, name: str, strides: int = 1, padding: str = "same", activation: bool = True
    ):
        x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False, name=name)(x)
        x = layers.BatchNormalization(
            axis=3, momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON, scale=False, name=f"{name}_BatchNorm"
        )(x)
        if activation:
            x = layers.Activation("relu", name=f"{name}_Activation")(x)
        return x

    def residual(x, branches: list, filters: int, scale: float, prefix: str, activation: bool = True):
        mixed = layers.Concatenate(axis=3, name=f"{prefix}_Concatenate")(branches)
        up = layers.Conv2D(filters, 1, padding="same", use_bias=True, name=f"{prefix}_Conv2d_1x1")(mixed)
        x = scale_sum(scale, name=f"{prefix}_ScaleSum")([x, up])
        if activation:
            x = layers.Activation("relu", name=f"{prefix}_Activation")(x)
        return x

    def block35(x, i: int):
        p = f"Block35_{i}"
        b0 = conv_bn(x, 32, 1, f"{p}_Branch_0_Conv2d_1x1")
        b1 = conv_bn(x, 32, 1, f"{p}_Branch_1_Conv2d_0a_1x1")
        b1 = conv_bn(b1, 32, 3, f"{p}_Branch_1_Conv2d_0b_3x3")
        b2 = conv_bn(x, 32, 1, f"{p}_Branch_2_Conv2d_0a_1x1")
        b2 = conv_bn(b2, 32, 3, f"{p}_Branch_2_Conv2d_0b_3x3")
        b2 = conv_bn(b2, 32, 3, f"{p}_Branch_2_Conv2d_0c_3x3")
        return residual(x, [b0, b1, b2], 256, 0.17, p)

    def block17(x, i: int):
        p = f"Block17_{i}"
        b0 = conv_bn(x, 128, 1, f"{p}_Branch_0_Conv2d_1x1")
        b1 = conv_bn(x, 128, 1, f"{p}_Branch_1_Conv2d_0a_1x1")
        b1 = conv_bn(b1, 128, (1, 7), f"{p}_Branch_1_Conv2d_0b_1x7")
        b1 = conv_bn(b1, 128, (7, 1), f"{p}_Branch_1_Conv2d_0c_7x1")
        return residual(x, [b0, b1], 896, 0.1, p)

    def block8(x, i: int, scale: float = 0.2, activation: bool = True):
        p = f"Block8_{i}"
        b0 = conv_bn(x, 192, 1, f"{p}_Branch_0_Conv2d_1x1")
        b1 = conv_bn(x, 192, 1, f"{p}_Branch_1_Conv2d_0a_1x1")
        b1 = conv_bn(b1, 192, (1, 3), f"{p}_Branch_1_Conv2d_0b_1x3")
        b1 = conv_bn(b1, 192, (3, 1), f"{p}_Branch_1_Conv2d_0c_3x1")
        return residual(x, [b0, b1], 1792, scale, p, activation=activation)

    inputs = keras.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3), name="input_1")
    # Stem
    x = conv_bn(inputs, 32, 3, "Conv2d_1a_3x3", strides=2, padding="valid")
    x = conv_bn(x, 32, 3, "Conv2d_2a_3x3", padding="valid")
    x = conv_bn(x, 64, 3, "Conv2d_2b_3x3")
    x = layers.MaxPooling2D(3, strides=2, name="MaxPool_3a_3x3")(x)
    x = conv_bn(x, 80, 1, "Conv2d_3b_1x1", padding="valid")
    x = conv_bn(x, 192, 3, "Conv2d_4a_3x3", padding="valid")
    x = conv_bn(x, 256, 3, "Conv2d_4b_3x3", strides=2, padding="valid")
    for i in range(1, 6):
        x = block35(x, i)
    # Mixed_6a (reduction A)
    b0 = conv_bn(x, 384, 3, "Mixed_6a_Branch_0_Conv2d_1a_3x3", strides=2, padding="valid")
    b1 = conv_bn(x, 192, 1, "Mixed_6a_Branch_1_Conv2d_0a_1x1")
    b1 = conv_bn(b1, 192, 3, "Mixed_6a_Branch_1_Conv2d_0b_3x3")
    b1 = conv_bn(b1, 256, 3, "Mixed_6a_Branch_1_Conv2d_1a_3x3", strides=2, padding="valid")
    b2 = layers.MaxPooling2D(3, strides=2, name="Mixed_6a_Branch_2_MaxPool_1a_3x3")(x)
    x = layers.Concatenate(axis=3, name="Mixed_6a")([b0, b1, b2])
    for i in range(1, 11):
        x = block17(x, i)
    # Mixed_7a (reduction B)
    b0 = conv_bn(x, 256, 1, "Mixed_7a_Branch_0_Conv2d_0a_1x1")
    b0 = conv_bn(b0, 384, 3, "Mixed_7a_Branch_0_Conv2d_1a_3x3", strides=2, padding="valid")
    b1 = conv_bn(x, 256, 1, "Mixed_7a_Branch_1_Conv2d_0a_1x1")
    b1 = conv_bn(b1, 256, 3, "Mixed_7a_Branch_1_Conv2d_1a_3x3", strides=2, padding="valid")
    b2 = conv_bn(x, 256, 1, "Mixed_7a_Branch_2_Conv2d_0a_1x1")
    b2 = conv_bn(b2, 256, 3, "Mixed_7a_Branch_2_Conv2d_0b_3x3")
    b2 = conv_bn(b2, 256, 3, "Mixed_7a_Branch_2_Conv2d_1a_3x3", strides=2, padding="valid")
    b3 = layers.MaxPooling2D(3, strides=2, name="Mixed_7a_Branch_3_MaxPool_1a_3x3")(x)
    x = layers.Concatenate(axis=3, name="Mixed_7a")([b0, b1, b2, b3])
    for i in range(1, 6):
        x = block8(x, i)
    x = block8(x, 6, scale=1.0, activation=False)
    # Head
    x = layers.GlobalAveragePooling2D(name="AvgPool")(x)
    x = layers.Dropout(dropout_rate, name="Dropout")(x)
    x = layers.Dense(dimension, use_bias=False, name="Bottleneck")(x)
    x = layers.BatchNormalization(
        momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON, scale=False, name="Bottleneck_BatchNorm"
    )(x)
    return keras.Model(inputs, x, name="inception_resnet_v1")


def h5_layer_weights(path: Path | str) -> dict[str, list[np.ndarray]]:
    """Weights per layer name from a Keras 2 HDF5 model, in the file's layer and weight order."""
    import h5py  # here, not at import: a worker on the ONNX runtime never reads the .h5 (~10 MB less)

    out: dict[str, list[np.ndarray]] = {}
    with h5py.File(path, "r") as f:
        group = f.get("model_weights", f)
        for raw in group.attrs["layer_names"]:
            layer = raw.decode() if isinstance(raw, bytes) else str(raw)
            names = [
                n.decode() if isinstance(n, bytes) else str(n) for n in group[layer].attrs["weight_names"]
            ]
            if names:
                out[layer] = [np.asarray(group[layer][n]) for n in names]
    return out


def load_h5_weights(model, path: Path | str) -> None:
    """Copy every weighted layer of the h5 file into ``model`` by name; any mismatch is an error."""
    stored = h5_layer_weights(path)
    weighted = [layer for layer in model.layers if layer.weights]
    missing = sorted({layer.name for layer in weighted} - stored.keys())
    unused = sorted(stored.keys() - {layer.name for layer in weighted})
    if missing or unused:
        raise ValueError(f"layer mismatch with {path}: missing in file {missing}, unused in file {unused}")
    for layer in weighted:
        layer.set_weights(stored[layer.name])  # raises on a shape mismatch


class FaceNetEmbedder:
    """128-d FaceNet; prewhitened 160x160 crops with a 10% margin."""

    name = "facenet"
    dimension = 128
    threshold = THRESHOLD

    def __init__(self, models_dir: Path | str) -> None:
        weights = require_weights(self.name, models_dir)
        import tensorflow as tf

        self._model = build_inception_resnet_v1(self.dimension)
        load_h5_weights(self._model, weights)
        self._forward = tf.function(
            lambda x: self._model(x, training=False),
            input_signature=[tf.TensorSpec([None, INPUT_SIZE, INPUT_SIZE, 3], tf.float32)],
        )

    def prepare(self, image: np.ndarray, face: Face) -> np.ndarray:
        return margin_crop(image, face.box, MARGIN, INPUT_SIZE)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        crops = np.asarray(crops)
        if len(crops) == 0:
            return np.zeros((0, self.dimension), np.float32)
        x = prewhiten(crops)
        out = [self._forward(x[i : i + BATCH_SIZE]).numpy() for i in range(0, len(x), BATCH_SIZE)]
        return l2_normalize(np.concatenate(out))
