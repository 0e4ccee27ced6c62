"""The ONNX cache (convert, verify by hash, convert again when stale) and the numpy/OpenCV image
ops of the ONNX detector. No TensorFlow: this runs in the fast tier (whose session check fails if anything loaded TensorFlow) (MTCNN's weights ship in the
``mtcnn`` package, so converting them needs no download). Equality with TensorFlow is in
test_onnx_runtime.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facecore import onnx_models
from facecore.detectors.pixel_ops import area_resize, crop_and_resize
from facecore.onnx_models import ConversionError, convert, converted, ensure_converted, onnx_paths
from facecore.runtime import EXECUTORS, installed


def test_convert_writes_files_and_manifest(tmp_path: Path) -> None:
    paths = convert("mtcnn", tmp_path)
    assert [p.name for p in paths] == ["mtcnn-pnet.onnx", "mtcnn-rnet.onnx", "mtcnn-onet.onnx"]
    manifest = json.loads((tmp_path / "onnx" / "mtcnn.json").read_text())
    assert manifest["converter"] == onnx_models.CONVERTER_VERSION
    assert manifest["sources"]["mtcnn/pnet.lz4"] == onnx_models.MTCNN_WEIGHTS_SHA256["pnet"]
    assert set(manifest["outputs"]) == {p.name for p in paths}
    assert converted("mtcnn", tmp_path)


def test_conversion_is_deterministic(tmp_path: Path) -> None:
    first = [p.read_bytes() for p in convert("mtcnn", tmp_path / "a")]
    second = [p.read_bytes() for p in convert("mtcnn", tmp_path / "b")]
    assert first == second


def test_a_damaged_file_is_converted_again(tmp_path: Path) -> None:
    pnet = convert("mtcnn", tmp_path)[0]
    good = pnet.read_bytes()
    pnet.write_bytes(good[:-10] + b"0123456789")
    assert not converted("mtcnn", tmp_path)
    assert converted("mtcnn", tmp_path, check_hashes=False)  # same names, same manifest
    ensure_converted("mtcnn", tmp_path)
    assert pnet.read_bytes() == good and converted("mtcnn", tmp_path)


def test_a_stale_converter_version_is_converted_again(tmp_path: Path, monkeypatch) -> None:
    convert("mtcnn", tmp_path)
    monkeypatch.setattr(onnx_models, "CONVERTER_VERSION", onnx_models.CONVERTER_VERSION + 1)
    assert not converted("mtcnn", tmp_path)


def test_source_weights_other_than_the_pinned_ones_are_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(onnx_models.MTCNN_WEIGHTS_SHA256, "rnet", "0" * 64)
    with pytest.raises(ConversionError, match="not the pinned"):
        convert("mtcnn", tmp_path)
    assert not any(p.exists() for p in onnx_paths("mtcnn", tmp_path))


def test_facenet_without_weights_is_model_unavailable(tmp_path: Path) -> None:
    from facecore.errors import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="models fetch facenet"):
        convert("facenet", tmp_path)


def test_area_resize_averages_footprints() -> None:
    image = np.arange(16, dtype=np.float32).reshape(4, 4, 1).repeat(3, axis=2)
    out = area_resize(image, (2, 2))
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], [[2.5, 4.5], [10.5, 12.5]], atol=1e-5)
    # 3 -> 2 samples: each output covers 1.5 input pixels, the middle one split in half.
    row = np.array([[0.0, 3.0, 6.0]], np.float32)[..., None].repeat(3, axis=2)
    np.testing.assert_allclose(area_resize(row, (1, 2))[0, :, 0], [1.0, 5.0], atol=1e-5)


def test_crop_and_resize_samples_bilinearly_and_zero_outside() -> None:
    image = np.arange(25, dtype=np.float32).reshape(5, 5, 1)
    whole = crop_and_resize(image, np.array([[0, 0, 1, 1]]), 5)
    np.testing.assert_allclose(whole[0], image)
    half = crop_and_resize(image, np.array([[0, 0, 0.5, 0.5]]), 3)  # samples at 0, 1, 2
    np.testing.assert_allclose(half[0, :, :, 0], image[:3, :3, 0])
    # Rows sampled at y = -2 (above the image: zeros), 0 and 2; columns at x = 0, 2, 4.
    outside = crop_and_resize(image, np.array([[-0.5, 0, 0.5, 1]]), 3)
    assert np.all(outside[0, 0] == 0)
    np.testing.assert_allclose(outside[0, 1:, :, 0], image[[0, 2]][:, [0, 2, 4], 0])


@pytest.mark.parametrize("executor", [e for e in EXECUTORS if installed(e)])
def test_onnx_detector_finds_the_astronaut(tmp_path: Path, executor: str, astronaut: np.ndarray) -> None:
    from facecore.detectors.onnx_mtcnn import OnnxMTCNN

    detector = OnnxMTCNN(convert("mtcnn", tmp_path), executor)
    (rows,) = detector.detect([astronaut], 20)
    faces = rows[rows[:, 4] >= 0.9]
    assert len(faces) == 1
    x1, y1, x2, y2 = faces[0, :4]
    assert 150 < x1 < 200 and 50 < y1 < 100 and 230 < x2 < 290 and 130 < y2 < 200, faces
