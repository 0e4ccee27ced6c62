"""The ``mtcnn`` package wrapper: row format, size grouping, and real batched detection."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facecore.detectors.mtcnn_package import MTCNNPackageDetector, group_by_size, rows_from_mtcnn


def test_rows_are_converted_to_interleaved_landmarks_for_one_image() -> None:
    raw = np.array(
        [
            [0, 10, 20, 50, 70, 0.99, 1, 2, 3, 4, 5, 11, 12, 13, 14, 15],
            [1, -5, 20, 500, 70, 0.95, 1, 2, 3, 4, 5, 11, 12, 13, 14, 15],
        ]
    )
    [row] = rows_from_mtcnn(raw, image_index=1, shape=(100, 200))
    assert row[:5].tolist() == pytest.approx([0, 20, 200, 70, 0.95])  # clipped to the image
    assert row[5:].tolist() == [1, 11, 2, 12, 3, 13, 4, 14, 5, 15]
    assert rows_from_mtcnn(raw, image_index=2, shape=(100, 200)).shape == (0, 15)


def test_similar_sizes_share_a_batch_and_odd_sizes_do_not() -> None:
    shapes = [(1024, 768), (100, 100), (1024, 768), (1000, 760), (768, 1024)]
    groups = group_by_size(shapes)
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3, 4]
    together = next(g for g in groups if 0 in g)
    assert {0, 2, 3} <= set(together)
    assert [1] in groups  # padding a thumbnail to 1024 px would waste 99% of the work
    assert 4 not in together  # portrait vs landscape: padding doubles the area


@pytest.fixture(scope="module")
def detector() -> MTCNNPackageDetector:
    return MTCNNPackageDetector()


def test_package_detector_finds_the_astronaut_in_a_mixed_batch(
    detector: MTCNNPackageDetector, astronaut: np.ndarray
) -> None:
    """A faceless image first used to shift mtcnn's own un-padding onto the wrong image."""
    blank = np.full((512, 512, 3), 128, np.uint8)
    portrait = np.asarray(Image.fromarray(astronaut).resize((340, 512)))
    alone = detector.detect([astronaut], 20)[0]
    blank_rows, batched, portrait_rows = detector.detect([blank, astronaut, portrait], 20)
    assert detector.device in ("CPU:0", "GPU:0")
    assert blank_rows.shape == (0, 15)
    assert batched.shape == alone.shape == (1, 15)
    assert batched[0] == pytest.approx(alone[0], abs=0.5)
    x1, y1, x2, y2, p = alone[0, :5]
    assert 170 < x1 < x2 < 280 and 50 < y1 < y2 < 185 and p > 0.9
    assert portrait_rows.shape[0] == 1
    assert portrait_rows[0, 0] == pytest.approx(x1 * 340 / 512, abs=8)


@pytest.mark.parametrize("min_face_size", [60, 100])
def test_large_min_face_size_works_and_keeps_coordinates(
    detector: MTCNNPackageDetector, astronaut: np.ndarray, min_face_size: int
) -> None:
    """mtcnn 1.0 itself crashes here (its pyramid shrinks below PNet's 12 px input)."""
    [default] = detector.detect([astronaut], 20)
    [large] = detector.detect([astronaut], min_face_size)
    assert large.shape == (1, 15)
    assert large[0, :4] == pytest.approx(default[0, :4], abs=6)
    assert large[0, 5:] == pytest.approx(default[0, 5:], abs=4)
