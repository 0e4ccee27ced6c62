"""ONNX graphs of our networks, written from the pinned weights with no TensorFlow.

The networks are small and fixed, so instead of tracing them through a converter we write each
one node by node here, mirroring the TensorFlow code that is the reference (``fast_pnet``, the
``mtcnn`` package's ``PNet``/``RNet``/``ONet``, ``facenet.build_inception_resnet_v1``):

* every graph takes NHWC float32 (what the TensorFlow models take) and transposes once to NCHW,
  the layout ONNX Runtime's CPU and CUDA kernels are fastest with;
* batch normalisation (inference: moving statistics) is folded into the preceding convolution or
  dense layer, which changes float rounding only (embeddings keep cosine > 0.99999);
* TensorFlow's ``SAME`` pooling pads at the end (``SAME_UPPER``), its ``same`` convolutions with
  odd kernels pad symmetrically, and Keras' ``Permute((2, 1, 3))`` + ``Flatten`` becomes a
  transpose to (N, W, H, C) before flattening.

Weights come as numpy arrays (``mtcnn_weights``, ``facenet_keras_weights``, and for facenet512
``facecore.onnx_tf_weights``), so the same builder serves both FaceNets. The output is a
deterministic function of the weights (no timestamps, fixed node names): the same source weights
give the same ONNX bytes, which ``facecore.onnx_models`` hashes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

OPSET = 17
BN_EPSILON = 0.001

WeightFn = Callable[[str], list[np.ndarray]]
"""A layer name -> its weights, in Keras order (conv: kernel[, bias]; BN: beta, mean, variance)."""


class GraphBuilder:
    """Appends ONNX nodes and initializers with unique, deterministic names."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def _fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value: np.ndarray, hint: str) -> str:
        from onnx import numpy_helper

        name = self._fresh(hint)
        value = np.asarray(value)
        array = value if value.ndim == 0 else np.ascontiguousarray(value)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, outputs: int = 1, **attrs) -> str | list[str]:
        from onnx import helper

        names = [self._fresh(f"{hint}_out") for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=self._fresh(hint), **attrs))
        return names[0] if outputs == 1 else names

    # -- layers (NCHW) ------------------------------------------------------------------------

    def conv(
        self,
        x: str,
        kernel: np.ndarray,
        bias: np.ndarray | None,
        hint: str,
        strides: int = 1,
        pads: tuple[int, int, int, int] = (0, 0, 0, 0),
    ) -> str:
        """Keras kernel (kh, kw, cin, cout) -> ONNX Conv (cout, cin, kh, kw)."""
        w = self.const(np.transpose(kernel, (3, 2, 0, 1)).astype(np.float32), f"{hint}_w")
        inputs = [x, w]
        if bias is not None:
            inputs.append(self.const(bias.astype(np.float32), f"{hint}_b"))
        kh, kw = kernel.shape[:2]
        return self.op(
            "Conv", inputs, hint, kernel_shape=[kh, kw], strides=[strides, strides], pads=list(pads)
        )

    def prelu(self, x: str, alpha: np.ndarray, hint: str, spatial: bool = True) -> str:
        slope = alpha.reshape(-1, 1, 1) if spatial else alpha.reshape(-1)
        return self.op("PRelu", [x, self.const(slope.astype(np.float32), f"{hint}_alpha")], hint)

    def max_pool(self, x: str, size: int, stride: int, same: bool, hint: str) -> str:
        attrs = {"auto_pad": "SAME_UPPER"} if same else {}
        return self.op("MaxPool", [x], hint, kernel_shape=[size, size], strides=[stride, stride], **attrs)

    def dense(self, x: str, kernel: np.ndarray, bias: np.ndarray | None, hint: str) -> str:
        w = self.const(kernel.astype(np.float32), f"{hint}_w")
        if bias is None:
            return self.op("MatMul", [x, w], hint)
        return self.op("Gemm", [x, w, self.const(bias.astype(np.float32), f"{hint}_b")], hint)

    def model(self, inputs: list[tuple[str, list]], outputs: list[tuple[str, str, list]]):
        """``inputs``: (name, shape); ``outputs``: (graph value, output name, shape)."""
        from onnx import TensorProto, helper

        for value, name, _ in outputs:
            self.nodes.append(helper.make_node("Identity", [value], [name], name=f"output_{name}"))
        graph = helper.make_graph(
            self.nodes,
            self.name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for _, n, s in outputs],
            self.initializers,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="facecore",
            producer_version="1",
        )
        model.ir_version = 8  # readable by every onnxruntime >= 1.14
        import onnx

        onnx.checker.check_model(model)
        return model


def fold_bn(
    kernel: np.ndarray, bias: np.ndarray | None, bn: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Conv/dense weights followed by batch normalisation -> one weighted layer.

    ``bn`` is (beta, moving_mean, moving_variance) for ``BatchNormalization(scale=False)`` (epsilon
    ``BN_EPSILON``), or (gamma, beta, moving_mean, moving_variance, epsilon); the output channel
    is the last kernel axis. Computed in float64 and rounded once to float32.
    """
    if len(bn) == 3:
        gamma, epsilon = np.float64(1.0), BN_EPSILON
        beta, mean, var = (np.asarray(a, dtype=np.float64) for a in bn)
    else:
        gamma, beta, mean, var = (np.asarray(a, dtype=np.float64) for a in bn[:4])
        epsilon = float(bn[4])
    factor = gamma / np.sqrt(var + epsilon)
    b = np.zeros_like(beta) if bias is None else np.asarray(bias, dtype=np.float64)
    folded_kernel = np.asarray(kernel, dtype=np.float64) * factor
    folded_bias = (b - mean) * factor + beta
    return folded_kernel.astype(np.float32), folded_bias.astype(np.float32)


# --- MTCNN -----------------------------------------------------------------------------------------

MTCNN_WEIGHT_FILES = {"pnet": "pnet.lz4", "rnet": "rnet.lz4", "onet": "onet.lz4"}


def mtcnn_weights_dir() -> Path:
    """The ``mtcnn`` package's weights folder (found without importing the package: it imports TF)."""
    import importlib.util

    spec = importlib.util.find_spec("mtcnn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the mtcnn package (its weights) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "weights"


def mtcnn_weights(net: str) -> list[np.ndarray]:
    """The package's weights of ``net``, in Keras ``get_weights`` order (joblib + lz4, no TF)."""
    import joblib

    return list(joblib.load(mtcnn_weights_dir() / MTCNN_WEIGHT_FILES[net]))


def _to_nchw(g: GraphBuilder, x: str) -> str:
    return g.op("Transpose", [x], "to_nchw", perm=[0, 3, 1, 2])


def build_pnet(w: list[np.ndarray]):
    """Input (1, H, W, 3) normalized image; output ``maps`` (1, 5, h, w): channel 0 the face
    logit (the face logit minus the background logit: its sigmoid is the softmax's face
    probability), channels 1-4 the box offsets.

    The two heads are one 1x1 convolution with five outputs: one pass over conv3's output instead
    of two, no softmax, and no split or gather in the graph (OpenVINO runs those in a slow plain
    layout); the caller takes the channels apart as numpy views.
    """
    g = GraphBuilder("pnet")
    x = _to_nchw(g, "image")
    x = g.prelu(g.conv(x, w[0], w[1], "conv1"), w[2], "prelu1")
    x = g.max_pool(x, 2, 2, True, "pool1")
    x = g.prelu(g.conv(x, w[3], w[4], "conv2"), w[5], "prelu2")
    x = g.prelu(g.conv(x, w[6], w[7], "conv3"), w[8], "prelu3")
    logits_kernel, logits_bias = w[11], w[12]
    kernel = np.concatenate([logits_kernel[..., 1:2] - logits_kernel[..., 0:1], w[9]], axis=-1)
    bias = np.concatenate([logits_bias[1:2] - logits_bias[0:1], w[10]])
    maps = g.conv(x, kernel, bias, "heads")
    return g.model([("image", [1, "height", "width", 3])], [(maps, "maps", [1, 5, "h", "w"])])


def _flatten_whc(g: GraphBuilder, x: str) -> str:
    """Keras ``Permute((2, 1, 3))`` + ``Flatten`` on NHWC = flatten (N, W, H, C)."""
    x = g.op("Transpose", [x], "permute", perm=[0, 3, 2, 1])
    return g.op("Flatten", [x], "flatten", axis=1)


def build_rnet(w: list[np.ndarray]):
    """Input (N, 24, 24, 3); outputs reg (N, 4) and prob (N, 2)."""
    g = GraphBuilder("rnet")
    x = _to_nchw(g, "patches")
    x = g.prelu(g.conv(x, w[0], w[1], "conv1"), w[2], "prelu1")
    x = g.max_pool(x, 3, 2, True, "pool1")
    x = g.prelu(g.conv(x, w[3], w[4], "conv2"), w[5], "prelu2")
    x = g.max_pool(x, 3, 2, False, "pool2")
    x = g.prelu(g.conv(x, w[6], w[7], "conv3"), w[8], "prelu3")
    x = _flatten_whc(g, x)
    x = g.prelu(g.dense(x, w[9], w[10], "fc4"), w[11], "prelu4", spatial=False)
    reg = g.dense(x, w[12], w[13], "fc5_1")
    prob = g.op("Softmax", [g.dense(x, w[14], w[15], "fc5_2")], "softmax", axis=1)
    return g.model([("patches", ["n", 24, 24, 3])], [(reg, "reg", ["n", 4]), (prob, "prob", ["n", 2])])


def build_onet(w: list[np.ndarray]):
    """Input (N, 48, 48, 3); outputs reg (N, 4), landmarks (N, 10) and prob (N, 2)."""
    g = GraphBuilder("onet")
    x = _to_nchw(g, "patches")
    x = g.prelu(g.conv(x, w[0], w[1], "conv1"), w[2], "prelu1")
    x = g.max_pool(x, 3, 2, True, "pool1")
    x = g.prelu(g.conv(x, w[3], w[4], "conv2"), w[5], "prelu2")
    x = g.max_pool(x, 3, 2, False, "pool2")
    x = g.prelu(g.conv(x, w[6], w[7], "conv3"), w[8], "prelu3")
    x = g.max_pool(x, 2, 2, True, "pool3")
    x = g.prelu(g.conv(x, w[9], w[10], "conv4"), w[11], "prelu4")
    x = _flatten_whc(g, x)
    x = g.prelu(g.dense(x, w[12], w[13], "fc5"), w[14], "prelu5", spatial=False)
    reg = g.dense(x, w[15], w[16], "fc6_1")
    marks = g.dense(x, w[17], w[18], "fc6_2")
    prob = g.op("Softmax", [g.dense(x, w[19], w[20], "fc6_3")], "softmax", axis=1)
    return g.model(
        [("patches", ["n", 48, 48, 3])],
        [(reg, "reg", ["n", 4]), (marks, "landmarks", ["n", 10]), (prob, "prob", ["n", 2])],
    )


# --- FaceNet (Inception-ResNet-v1) ----------------------------------------------------------------


def facenet_keras_weights(path: Path | str) -> WeightFn:
    """Layer weights of ``facenet_keras.h5`` by our Keras layer names (h5py, no TF)."""
    from facecore.embedders.facenet import h5_layer_weights

    stored = h5_layer_weights(path)
    return lambda name: stored[name]


def build_inception_resnet_v1(weights: WeightFn, dimension: int, name: str):
    """``facenet.build_inception_resnet_v1`` as ONNX, BN folded; input (N, 160, 160, 3) prewhitened
    or standardized crops, output (N, dimension) un-normalized embeddings (the engine L2-normalizes)."""
    g = GraphBuilder(name)

    def conv_bn(x: str, layer: str, strides: int = 1, same: bool = True, activation: bool = True) -> str:
        try:
            bn = weights(f"{layer}_BatchNorm")
        except KeyError:  # facenet512's frozen graph: the batch norm is already in (kernel, bias)
            kernel, bias = weights(layer)
        else:
            kernel, bias = fold_bn(weights(layer)[0], None, bn)
        kh, kw = kernel.shape[:2]
        if same and strides != 1:
            raise ValueError(f"{layer}: strided 'same' convolutions are not used by this network")
        pads = (kh // 2, kw // 2, kh // 2, kw // 2) if same else (0, 0, 0, 0)
        x = g.conv(x, kernel, bias, layer, strides=strides, pads=pads)
        return g.op("Relu", [x], f"{layer}_relu") if activation else x

    def residual(x: str, branches: list[str], scale: float, prefix: str, activation: bool = True) -> str:
        mixed = g.op("Concat", branches, f"{prefix}_concat", axis=1)
        kernel, bias = weights(f"{prefix}_Conv2d_1x1")
        # shortcut + scale * (conv(mixed) + bias): the scale is folded into the 1x1 weights.
        up = g.conv(mixed, kernel * np.float32(scale), bias * np.float32(scale), f"{prefix}_Conv2d_1x1")
        x = g.op("Add", [x, up], f"{prefix}_add")
        return g.op("Relu", [x], f"{prefix}_relu") if activation else x

    def block35(x: str, i: int) -> str:
        p = f"Block35_{i}"
        b0 = conv_bn(x, f"{p}_Branch_0_Conv2d_1x1")
        b1 = conv_bn(conv_bn(x, f"{p}_Branch_1_Conv2d_0a_1x1"), f"{p}_Branch_1_Conv2d_0b_3x3")
        b2 = conv_bn(x, f"{p}_Branch_2_Conv2d_0a_1x1")
        b2 = conv_bn(conv_bn(b2, f"{p}_Branch_2_Conv2d_0b_3x3"), f"{p}_Branch_2_Conv2d_0c_3x3")
        return residual(x, [b0, b1, b2], 0.17, p)

    def block17(x: str, i: int) -> str:
        p = f"Block17_{i}"
        b0 = conv_bn(x, f"{p}_Branch_0_Conv2d_1x1")
        b1 = conv_bn(x, f"{p}_Branch_1_Conv2d_0a_1x1")
        b1 = conv_bn(conv_bn(b1, f"{p}_Branch_1_Conv2d_0b_1x7"), f"{p}_Branch_1_Conv2d_0c_7x1")
        return residual(x, [b0, b1], 0.1, p)

    def block8(x: str, i: int, scale: float = 0.2, activation: bool = True) -> str:
        p = f"Block8_{i}"
        b0 = conv_bn(x, f"{p}_Branch_0_Conv2d_1x1")
        b1 = conv_bn(x, f"{p}_Branch_1_Conv2d_0a_1x1")
        b1 = conv_bn(conv_bn(b1, f"{p}_Branch_1_Conv2d_0b_1x3"), f"{p}_Branch_1_Conv2d_0c_3x1")
        return residual(x, [b0, b1], scale, p, activation=activation)

    x = _to_nchw(g, "crops")
    x = conv_bn(x, "Conv2d_1a_3x3", strides=2, same=False)
    x = conv_bn(x, "Conv2d_2a_3x3", same=False)
    x = conv_bn(x, "Conv2d_2b_3x3")
    x = g.max_pool(x, 3, 2, False, "MaxPool_3a_3x3")
    x = conv_bn(x, "Conv2d_3b_1x1", same=False)
    x = conv_bn(x, "Conv2d_4a_3x3", same=False)
    x = conv_bn(x, "Conv2d_4b_3x3", strides=2, same=False)
    for i in range(1, 6):
        x = block35(x, i)
    b0 = conv_bn(x, "Mixed_6a_Branch_0_Conv2d_1a_3x3", strides=2, same=False)
    b1 = conv_bn(conv_bn(x, "Mixed_6a_Branch_1_Conv2d_0a_1x1"), "Mixed_6a_Branch_1_Conv2d_0b_3x3")
    b1 = conv_bn(b1, "Mixed_6a_Branch_1_Conv2d_1a_3x3", strides=2, same=False)
    b2 = g.max_pool(x, 3, 2, False, "Mixed_6a_Branch_2_MaxPool_1a_3x3")
    x = g.op("Concat", [b0, b1, b2], "Mixed_6a", axis=1)
    for i in range(1, 11):
        x = block17(x, i)
    b0 = conv_bn(x, "Mixed_7a_Branch_0_Conv2d_0a_1x1")
    b0 = conv_bn(b0, "Mixed_7a_Branch_0_Conv2d_1a_3x3", strides=2, same=False)
    b1 = conv_bn(x, "Mixed_7a_Branch_1_Conv2d_0a_1x1")
    b1 = conv_bn(b1, "Mixed_7a_Branch_1_Conv2d_1a_3x3", strides=2, same=False)
    b2 = conv_bn(conv_bn(x, "Mixed_7a_Branch_2_Conv2d_0a_1x1"), "Mixed_7a_Branch_2_Conv2d_0b_3x3")
    b2 = conv_bn(b2, "Mixed_7a_Branch_2_Conv2d_1a_3x3", strides=2, same=False)
    b3 = g.max_pool(x, 3, 2, False, "Mixed_7a_Branch_3_MaxPool_1a_3x3")
    x = g.op("Concat", [b0, b1, b2, b3], "Mixed_7a", axis=1)
    for i in range(1, 6):
        x = block8(x, i)
    x = block8(x, 6, scale=1.0, activation=False)
    x = g.op("GlobalAveragePool", [x], "AvgPool")
    x = g.op("Flatten", [x], "AvgPool_flatten", axis=1)
    kernel, bias = fold_bn(weights("Bottleneck")[0], None, weights("Bottleneck_BatchNorm"))
    if kernel.shape[1] != dimension:
        raise ValueError(f"bottleneck has {kernel.shape[1]} outputs, expected {dimension}")
    x = g.dense(x, kernel, bias, "Bottleneck")
    return g.model([("crops", ["n", 160, 160, 3])], [(x, "embeddings", ["n", dimension])])
