"""Do two detectors find the same faces?  Used by the fast-MTCNN tests and the engine benchmark.

Rows are detector rows (``base.DETECTION_COLUMNS``).  Faces are paired greedily by box IoU; a
face either side without a partner is *explained* when its probability lies within ``band``
of the final-stage threshold (such a face may flip with any float rounding difference).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facecore.detectors.base import DETECTION_COLUMNS
from facecore.types import LANDMARK_NAMES

PAIR_IOU = 0.5
"""Boxes overlapping at least this much are the same face; the agreement bar is higher."""


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of (N, >=4) and (M, >=4) boxes given as x1, y1, x2, y2."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


@dataclass
class Agreement:
    reference: int
    candidate: int
    matched_ious: list[float] = field(default_factory=list)
    prob_diffs: list[float] = field(default_factory=list)
    landmark_diffs: list[float] = field(default_factory=list)
    """Largest landmark distance (px) per matched pair."""
    unmatched_probs: list[float] = field(default_factory=list)
    """Probabilities of faces found by only one of the two."""

    @property
    def matched(self) -> int:
        return len(self.matched_ious)

    def unexplained(self, threshold: float, band: float, min_iou: float) -> int:
        """Unmatched faces outside the threshold band, plus matched pairs below ``min_iou``."""
        outside_band = sum(p >= threshold + band for p in self.unmatched_probs)
        return outside_band + sum(iou < min_iou for iou in self.matched_ious)

    def merge(self, other: Agreement) -> Agreement:
        return Agreement(
            self.reference + other.reference,
            self.candidate + other.candidate,
            self.matched_ious + other.matched_ious,
            self.prob_diffs + other.prob_diffs,
            self.landmark_diffs + other.landmark_diffs,
            self.unmatched_probs + other.unmatched_probs,
        )


def compare_rows(reference: np.ndarray, candidate: np.ndarray) -> Agreement:
    """Pair the faces of one image found by two detectors."""
    reference = np.asarray(reference, dtype=np.float64).reshape(-1, DETECTION_COLUMNS)
    candidate = np.asarray(candidate, dtype=np.float64).reshape(-1, DETECTION_COLUMNS)
    result = Agreement(len(reference), len(candidate))
    free_ref, free_cand = set(range(len(reference))), set(range(len(candidate)))
    if len(reference) and len(candidate):
        iou = box_iou(reference, candidate)
        for flat in np.argsort(-iou, axis=None):
            i, j = np.unravel_index(flat, iou.shape)
            if iou[i, j] < PAIR_IOU:
                break
            if i in free_ref and j in free_cand:
                free_ref.remove(i)
                free_cand.remove(j)
                result.matched_ious.append(float(iou[i, j]))
                result.prob_diffs.append(abs(float(reference[i, 4] - candidate[j, 4])))
                marks = (reference[i, 5:] - candidate[j, 5:]).reshape(-1, 2)
                result.landmark_diffs.append(float(np.hypot(marks[:, 0], marks[:, 1]).max()))
    result.unmatched_probs = [float(reference[i, 4]) for i in sorted(free_ref)] + [
        float(candidate[j, 4]) for j in sorted(free_cand)
    ]
    return result


def rows_from_mtcnn_json(faces: list[dict]) -> np.ndarray:
    """``mtcnn.MTCNN().detect_faces`` output (xywh boxes, keypoints) -> detector rows."""
    rows = np.zeros((len(faces), DETECTION_COLUMNS), dtype=np.float32)
    for k, face in enumerate(faces):
        x, y, w, h = face["box"]
        rows[k, :5] = (x, y, x + w, y + h, face["confidence"])
        for n, name in enumerate(LANDMARK_NAMES):
            rows[k, 5 + 2 * n : 7 + 2 * n] = face["keypoints"][name]
    return rows
