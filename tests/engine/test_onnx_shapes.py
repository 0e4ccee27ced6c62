"""The ONNX detector's fixed shapes (OpenVINO sets up each new input shape) keep its outputs.

* PNet on a padded canvas gives the maps of the level alone (``pnet_padding``): real converted
  networks on both executors, on a real photo's levels with odd and even sides; the reference is
  ONNX Runtime on the level at its exact size (itself held to TensorFlow by test_onnx_runtime.py).
* RNet/ONet candidates run in fixed batch sizes keep one output row each (``run_in_chunks``;
  a stand-in network, as only the bookkeeping is under test; test_onnx_runtime.py runs the real
  ones on batches of photos).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facecore.detectors import pnet_padding as padding
from facecore.detectors.onnx_mtcnn import normalize
from facecore.detectors.pixel_ops import area_resize
from facecore.onnx_models import ensure_converted, onnx_paths
from facecore.runtime import Net, installed
from facecore.settings import default_models_dir

pytestmark = pytest.mark.skipif(
    not (installed("openvino") and installed("onnxruntime")), reason="needs openvino and onnxruntime"
)

SIZES = [(131, 97), (130, 96), (131, 96), (130, 97), (257, 193), (192, 128)]
"""Odd and even heights and widths; the last one is already a multiple of the bucket."""


@pytest.fixture(scope="module")
def pnet_path() -> Path:
    models_dir = default_models_dir()
    ensure_converted("mtcnn", models_dir)
    return onnx_paths("mtcnn", models_dir)[0]


@pytest.fixture(scope="module")
def image(astronaut: np.ndarray) -> np.ndarray:
    """The astronaut photo (one face), normalized as the detector feeds PNet."""
    return normalize(astronaut)


def run_with(net: Net):
    return lambda batch: net.run({"image": batch})[0]


@pytest.mark.parametrize("size", SIZES)
def test_padded_level_gives_the_levels_own_maps(pnet_path, image, size) -> None:
    exact, openvino = Net(pnet_path, "onnxruntime", threads=1), Net(pnet_path, "openvino")
    level = area_resize(image, size)
    want_reg, want_prob = padding.level_maps(run_with(exact)(level[None]), *size)
    edges = padding.exact_edges(run_with(exact), level)
    got_reg, got_prob = padding.level_maps(run_with(openvino)(padding.canvas(level)), *size, edges)
    assert got_prob.shape == want_prob.shape == (padding.map_size(size[0]), padding.map_size(size[1]))
    np.testing.assert_allclose(got_prob, want_prob, atol=1e-5)
    np.testing.assert_allclose(got_reg, want_reg, atol=1e-4)


def test_without_the_exact_edges_an_odd_sides_last_row_differs(pnet_path, image) -> None:
    """Why the edges are computed again: the padding reaches the last pool window of an odd side."""
    net = Net(pnet_path, "onnxruntime", threads=1)
    size = (131, 97)
    level = area_resize(image, size)
    _, want = padding.level_maps(run_with(net)(level[None]), *size)
    _, padded = padding.level_maps(run_with(net)(padding.canvas(level)), *size)
    np.testing.assert_allclose(padded[:-1, :-1], want[:-1, :-1], atol=1e-5)
    assert np.abs(padded[-1] - want[-1]).max() > 1e-4 or np.abs(padded[:, -1] - want[:, -1]).max() > 1e-4


class RowSums:
    """A stand-in network for the chunking logic only: one output row per patch (its sum), and
    the batch sizes it was called with."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        patches = feeds["patches"]
        self.sizes.append(len(patches))
        return [patches.reshape(len(patches), -1).sum(axis=1)]


@pytest.mark.parametrize("count", [1, 15, 16, 17, 128, 129, 300])
def test_candidates_run_in_the_fixed_batch_sizes_and_keep_their_rows(count) -> None:
    from facecore.detectors.onnx_mtcnn import RNET_CHUNKS, run_in_chunks

    net = RowSums()
    patches = np.arange(count * 4, dtype=np.float32).reshape(count, 2, 2, 1)
    (sums,) = run_in_chunks(net, patches, RNET_CHUNKS)
    np.testing.assert_array_equal(sums, patches.reshape(count, -1).sum(axis=1))
    assert set(net.sizes) <= set(RNET_CHUNKS)
    assert sum(net.sizes) - count < RNET_CHUNKS[-1]
