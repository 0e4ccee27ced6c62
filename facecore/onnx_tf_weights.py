"""facenet512's weights out of its frozen TensorFlow graph, under the Keras layer names.

The frozen graph (davidsandberg's 20180408-102900) is the same Inception-ResNet-v1 as the 128-d
model, with each convolution's batch norm already folded into its weights and a bias
(``Conv2D_bn_offset``); only the bottleneck keeps a ``FusedBatchNorm``. Mapping the graph's
constants to the layer names of ``facecore.embedders.facenet`` lets one ONNX builder
(``onnx_graphs.build_inception_resnet_v1``) write both models. Reading a GraphDef needs
TensorFlow: this runs at conversion time only (``make models``), never in a worker.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from facecore.onnx_graphs import WeightFn

ROOT = "InceptionResnetV1"


def tf_scope(layer: str) -> str:
    """Keras layer name (``Block17_3_Branch_1_Conv2d_0b_1x7``) -> graph scope
    (``InceptionResnetV1/Repeat_1/block17_3/Branch_1/Conv2d_0b_1x7``)."""
    m = re.fullmatch(r"Block(35|17|8)_(\d+)_(.+)", layer)
    if m:
        kind, index, rest = m.group(1), int(m.group(2)), m.group(3)
        if kind == "8" and index == 6:
            block = "Block8"
        else:
            repeat = {"35": "Repeat", "17": "Repeat_1", "8": "Repeat_2"}[kind]
            block = f"{repeat}/block{kind}_{index}"
        return f"{ROOT}/{block}/{_branch_path(rest)}"
    m = re.fullmatch(r"(Mixed_\da)_(.+)", layer)
    if m:
        return f"{ROOT}/{m.group(1)}/{_branch_path(m.group(2))}"
    return f"{ROOT}/{layer}"


def _branch_path(rest: str) -> str:
    m = re.fullmatch(r"(Branch_\d)_(.+)", rest)
    return f"{m.group(1)}/{m.group(2)}" if m else rest


def facenet512_weights(path: Path | str) -> WeightFn:
    """Layer name -> weights in the builder's conventions: a convolution gives (kernel, bias) and
    has no ``_BatchNorm`` entry (folded in the graph); ``Bottleneck`` gives its kernel and
    ``Bottleneck_BatchNorm`` (gamma, beta, mean, variance, epsilon)."""
    import tensorflow as tf

    from facecore.embedders.facenet512 import load_dynamic_batch_graph_def

    graph_def = load_dynamic_batch_graph_def(path)
    consts = {n.name: n for n in graph_def.node if n.op == "Const"}
    value = lambda name: tf.make_ndarray(consts[name].attr["value"].tensor)  # noqa: E731
    bn = next(n for n in graph_def.node if n.op == "FusedBatchNorm")
    bn_inputs = {name.rsplit("/", 1)[-1]: name for name in bn.input[1:]}

    def weights(layer: str) -> list[np.ndarray]:
        if layer == "Bottleneck":
            return [value(f"{ROOT}/Bottleneck/weights")]
        if layer == "Bottleneck_BatchNorm":
            gamma = value(bn_inputs["Const"])
            stats = [value(bn_inputs[k]) for k in ("beta", "moving_mean", "moving_variance")]
            return [gamma, *stats, np.float64(bn.attr["epsilon"].f)]
        if layer.endswith("_BatchNorm"):
            raise KeyError(layer)  # folded into the convolution's weights and bias
        scope = tf_scope(layer)
        kernel = value(f"{scope}/weights")
        for bias in ("biases", "Conv2D_bn_offset"):
            if f"{scope}/{bias}" in consts:
                return [kernel, value(f"{scope}/{bias}")]
        raise KeyError(f"{layer}: no bias for {scope}")

    return weights
