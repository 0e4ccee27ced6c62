"""FastMTCNN finds the faces the ``mtcnn`` package finds, with the package's own weights.

Everything here is real: the package's networks and weights on real photos (skimage's
astronaut, and the shared deepface-pairs photos when present).  Speed is measured in
bench/engine_throughput.py, not here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from facecore.detectors import fast_boxes as fb
from facecore.detectors.base import DETECTION_COLUMNS, Detector
from facecore.detectors.fast_agreement import compare_rows, rows_from_mtcnn_json
from facecore.detectors.fast_mtcnn import FastMTCNN, MTCNNParams
from facecore.detectors.fast_pnet import MAX_LEVELS

ONET_THRESHOLD = MTCNNParams().threshold_onet
BAND = 0.05
"""A face may be found by only one detector if its probability is within this of the threshold."""

SHARED_PHOTOS = ["couple.jpg", "selfie-many-people.jpg", "img1.jpg", "img11_reflection.jpg", "img22.jpg"]


@pytest.fixture(scope="module")
def fast() -> FastMTCNN:
    return FastMTCNN()


@pytest.fixture(scope="module")
def reference():
    """The plain ``mtcnn`` package detector the fast one must agree with."""
    mtcnn = pytest.importorskip("mtcnn")
    return mtcnn.MTCNN()


def load_photo(path: Path, max_side: int = 1024) -> np.ndarray:
    with Image.open(path) as raw:
        image = ImageOps.exif_transpose(raw).convert("RGB")
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR
        )
    return np.asarray(image)


def assert_same_faces(reference_rows: np.ndarray, rows: np.ndarray) -> None:
    agreement = compare_rows(reference_rows, rows)
    assert all(iou >= 0.9 for iou in agreement.matched_ious), agreement
    assert all(d <= 0.02 for d in agreement.prob_diffs), agreement
    # The package rounds landmarks to whole pixels.
    assert all(d <= 3.0 for d in agreement.landmark_diffs), agreement
    assert all(p < ONET_THRESHOLD + BAND for p in agreement.unmatched_probs), agreement


def test_is_a_detector(fast: FastMTCNN) -> None:
    detector: Detector = fast
    assert detector.name == "mtcnn-fast"


def test_astronaut_face_and_landmarks(fast: FastMTCNN, astronaut: np.ndarray) -> None:
    (rows,) = fast.detect([astronaut], 20)
    assert rows.dtype == np.float32 and rows.shape == (1, DETECTION_COLUMNS)
    x1, y1, x2, y2, prob = rows[0, :5]
    assert 0 <= x1 < x2 <= astronaut.shape[1] and 0 <= y1 < y2 <= astronaut.shape[0]
    assert prob > 0.99
    left_eye, right_eye, nose, mouth_left, mouth_right = rows[0, 5:].reshape(5, 2)
    for x, y in (left_eye, right_eye, nose, mouth_left, mouth_right):
        assert x1 <= x <= x2 and y1 <= y <= y2
    # Image-left eye left of the image-right eye, eyes above the nose above the mouth.
    assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


@pytest.mark.parametrize("min_face_size", [20, 15])
def test_astronaut_same_as_package(fast, reference, astronaut: np.ndarray, min_face_size: int) -> None:
    expected = rows_from_mtcnn_json(reference.detect_faces(astronaut, min_face_size=min_face_size))
    (rows,) = fast.detect([astronaut], min_face_size)
    assert len(expected) == 1
    assert_same_faces(expected, rows)


def test_pyramid_deeper_than_one_graph_call(fast, reference, astronaut: np.ndarray) -> None:
    """A 1400 px image has 13 pyramid levels, more than ``fast_pnet.MAX_LEVELS`` per call."""
    big = np.asarray(Image.fromarray(astronaut).resize((1400, 1400), Image.Resampling.BILINEAR))
    assert len(fb.pyramid_scales(1400, 1400, 20, 0.709)) > MAX_LEVELS
    expected = rows_from_mtcnn_json(reference.detect_faces(big))
    (rows,) = fast.detect([big], 20)
    assert len(expected) == 1
    assert_same_faces(expected, rows)


def test_large_min_face_size(fast: FastMTCNN, astronaut: np.ndarray) -> None:
    """The package crashes when its smallest pyramid level is under 12 px; we skip such levels."""
    (rows,) = fast.detect([astronaut], 40)
    assert len(rows) == 1 and rows[0, 4] > 0.99


@pytest.mark.shared_data
@pytest.mark.parametrize("name", SHARED_PHOTOS)
def test_shared_photos_same_as_package(fast, reference, deepface_pairs: Path, name: str) -> None:
    image = load_photo(deepface_pairs / name)
    expected = rows_from_mtcnn_json(reference.detect_faces(image))
    (rows,) = fast.detect([image], 20)
    assert len(expected) > 0
    assert_same_faces(expected, rows)


@pytest.mark.shared_data
def test_many_faces_found(fast, deepface_pairs: Path) -> None:
    (couple,) = fast.detect([load_photo(deepface_pairs / "couple.jpg")], 20)
    assert (couple[:, 4] > 0.9).sum() == 2
    (crowd,) = fast.detect([load_photo(deepface_pairs / "selfie-many-people.jpg")], 20)
    assert (crowd[:, 4] > 0.9).sum() >= 4  # what the package finds at 1024 px


def test_batch_of_different_sizes_equals_one_at_a_time(fast: FastMTCNN, astronaut: np.ndarray) -> None:
    images = [
        astronaut,
        np.ascontiguousarray(astronaut[20:400, 100:420]),
        np.asarray(Image.fromarray(astronaut).resize((700, 610))),
        np.full((90, 130, 3), 128, np.uint8),
        np.ascontiguousarray(np.fliplr(astronaut)),
    ]
    batched = fast.detect(images, 20)
    singles = [fast.detect([img], 20)[0] for img in images]
    assert len(batched) == len(images)
    for one, many in zip(singles, batched, strict=True):
        assert one.shape == many.shape
        np.testing.assert_allclose(many, one, atol=1e-3)
    assert [len(r) for r in batched[:3]] == [1, 1, 1] and len(batched[3]) == 0


@pytest.mark.parametrize("kind", ["gray", "noise"])
def test_no_face_gives_empty_rows(fast: FastMTCNN, kind: str) -> None:
    if kind == "gray":
        image = np.full((240, 320, 3), 128, np.uint8)
    else:
        image = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    (rows,) = fast.detect([image], 20)
    assert rows.shape == (0, DETECTION_COLUMNS) and rows.dtype == np.float32


@pytest.mark.parametrize("shape", [(1, 1), (5, 8), (11, 11), (12, 12), (13, 40), (11, 600), (600, 11)])
def test_tiny_images_do_not_crash(fast: FastMTCNN, astronaut: np.ndarray, shape: tuple[int, int]) -> None:
    tiny = np.random.default_rng(1).integers(0, 256, (*shape, 3), dtype=np.uint8)
    (alone,) = fast.detect([tiny], 20)
    assert alone.shape[1] == DETECTION_COLUMNS
    # Next to a real photo in one batch, the photo's face is still found.
    with_face = fast.detect([tiny, astronaut], 20)
    assert len(with_face[1]) == 1


def test_empty_batch(fast: FastMTCNN) -> None:
    assert fast.detect([], 20) == []


@pytest.mark.parametrize("method", ["union", "min"])
def test_nms_keeps_what_the_package_keeps(method: str) -> None:
    """Clustered random boxes (many overlaps, more than one NMS chunk) against the package's NMS."""
    bboxes = pytest.importorskip("mtcnn.utils.bboxes")
    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 400, (40, 2))[rng.integers(0, 40, 1500)] + rng.normal(0, 6, (1500, 2))
    sizes = rng.uniform(10, 60, (1500, 1))
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2, rng.uniform(0, 1, (1500, 1))], axis=1)
    boxes = fb.sort_desc(boxes)
    with_id = np.concatenate([np.zeros((len(boxes), 1)), boxes], axis=1)
    expected = bboxes.smart_nms_from_bboxes(with_id, threshold=0.5, method=method, initial_sort=False)
    kept = fb.nms(boxes, 0.5, method)
    assert 40 <= len(kept) < len(boxes)
    np.testing.assert_array_equal(kept, expected[:, 1:])


def test_pnet_boxes_match_the_package() -> None:
    tf = pytest.importorskip("tensorflow")
    bboxes = pytest.importorskip("mtcnn.utils.bboxes")
    rng = np.random.default_rng(3)
    reg = rng.normal(0, 0.1, (1, 30, 40, 4)).astype(np.float32)
    prob = rng.uniform(0, 1, (1, 30, 40)).astype(np.float32)
    cls = np.stack([1 - prob, prob], axis=-1)
    expected = bboxes.generate_bounding_box(tf.constant(reg), tf.constant(cls), 0.6)
    expected = bboxes.upscale_bboxes(expected, np.asarray([0.3]))
    got = fb.pnet_boxes(reg[0], prob[0], 0.6, 0.3)
    np.testing.assert_array_equal(got, expected[:, 1:])
