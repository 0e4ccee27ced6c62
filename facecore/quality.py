"""Face quality from what the engine already has: box, five landmarks, detection probability, pixels.

No model and no TensorFlow: numpy and Pillow only, well under 2 ms per face. ``assess_face`` measures

* **size**: box height and inter-ocular distance in original pixels, and the *effective* box height,
  i.e. in the working image the embedders cut from (smaller than the original for huge photos);
* **sharpness**: variance of the 4-neighbour Laplacian of the inner face (central 70 % of the box),
  grey (ITU-R 601 luma), resampled to ``SHARPNESS_SIDE`` x ``SHARPNESS_SIDE`` and standardised to zero mean and unit
  contrast (std floored at ``CONTRAST_NOISE_FLOOR``). The fixed grid makes it comparable across
  face sizes; for faces smaller than the grid it also measures the missing resolution, on purpose
  (it is the detail the embedder gets);
* **pose**: yaw, pitch and roll in degrees from the five landmarks (``estimate_pose``);
* **exposure**: mean grey level, contrast (std) and clipped-highlight fraction of the inner face;
* the detector's **probability**.

Each measure maps to a sub-score in [0, 1] by a ramp between a "bad" and a "good" level; the
``score`` is their product, and every sub-score below 0.5 adds a stable reason code
(``REASONS``). Levels were set on the shared photos and their degraded copies
(``bench/accuracy.py``); the decision rule that uses the score lives with the recognition code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

from facecore.decode import DecodedImage
from facecore.types import Face

SHARPNESS_SIDE = 48
"""Grid (px) the inner face is resampled to before the Laplacian."""
INNER_FRACTION = 0.7
"""Central part of the detector box used for sharpness and exposure (skips hair and background)."""
CONTRAST_NOISE_FLOOR = 8.0
"""Grey-level std below which a crop is not stretched further (keeps sensor noise from looking sharp)."""
ANALYSIS_SIDE = 96
"""Inner-face crops are analysed at 1-2x this many pixels (twice the sharpness grid)."""

# Landmark geometry (see ``estimate_pose``), for MTCNN's five points on an average adult face.
NOSE_DEPTH_OVER_HALF_IOD = 0.86
"""Nose tip in front of the eye/mouth plane (~27 mm) over half the inter-ocular distance (~31.5 mm)."""
NOSE_DEPTH_OVER_EYE_MOUTH = 0.42
"""Same depth over the eye-line-to-mouth-line distance (~64 mm, 1.02 x IOD for MTCNN's points)."""
NEUTRAL_NOSE_RATIO = 0.58
"""Nose height between eye line (0) and mouth line (1) of a frontal face (median of the shared photos)."""

# (bad, good) levels of every sub-score ramp.
SIZE_RAMP = (40.0, 80.0)
"""Effective box height, px (a 40 px box is about 13 px between the eyes)."""
SHARPNESS_RAMP = (0.015, 0.12)
"""Laplacian variance (log-scale ramp)."""
YAW_RAMP = (55.0, 25.0)
PITCH_RAMP = (45.0, 20.0)
ROLL_RAMP = (50.0, 25.0)
"""Absolute angles, degrees."""
DARK_RAMP = (22.0, 55.0)
"""Mean grey level of the inner face."""
OVEREXPOSED_RAMP = (0.75, 0.35)
"""Fraction of inner-face pixels at grey >= 250."""
CONTRAST_RAMP = (4.0, 12.0)
"""Grey-level std of the inner face."""
PROBABILITY_RAMP = (0.85, 0.97)

REASONS = (
    "small_face",
    "blurred",
    "turned",
    "tilted",
    "dark",
    "overexposed",
    "low_contrast",
    "low_probability",
)
"""Stable codes, in this order in ``FaceQuality.reasons``."""


@dataclass(frozen=True)
class Pose:
    """Head pose in degrees, estimated from five landmarks (see ``estimate_pose`` for signs)."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class FaceQuality:
    """Quality of one face: measures, per-aspect sub-scores, overall ``score`` and ``reasons``."""

    score: float
    """Product of the sub-scores, in [0, 1]."""
    reasons: tuple[str, ...]
    """Codes from ``REASONS`` whose sub-score is below 0.5."""
    face_height_px: float
    """Box height in original pixels."""
    face_width_px: float
    interocular_px: float
    """Distance between the eye landmarks, original pixels."""
    effective_height_px: float
    """Box height in the working image the embedders cut from (<= ``face_height_px``)."""
    sharpness: float
    yaw: float
    pitch: float
    roll: float
    brightness: float
    """Mean grey level (0-255) of the inner face."""
    contrast: float
    """Grey-level std of the inner face."""
    overexposed_fraction: float
    probability: float
    subscores: tuple[tuple[str, float], ...]
    """(aspect, sub-score) pairs: size, sharpness, pose_yaw, pose_pitch, pose_roll, dark, overexposed,
    contrast, probability (a tuple, so the dataclass stays hashable)."""

    def to_dict(self) -> dict:
        """JSON-ready, rounded."""
        out = asdict(self)
        out["reasons"] = list(self.reasons)
        out["subscores"] = {k: round(float(v), 3) for k, v in self.subscores}
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(
                    value, 4 if key in ("score", "sharpness", "overexposed_fraction", "probability") else 2
                )
        return out


def ramp(value: float, bad: float, good: float) -> float:
    """0 at ``bad``, 1 at ``good`` (either order), linear in between, clipped."""
    if good == bad:
        return float(value >= good)
    return float(min(1.0, max(0.0, (value - bad) / (good - bad))))


def log_ramp(value: float, bad: float, good: float) -> float:
    """``ramp`` on a log scale (for positive measures spanning decades)."""
    return ramp(math.log(max(value, 1e-12)), math.log(bad), math.log(good))


def _point(landmarks: Mapping[str, tuple[float, float]], name: str) -> np.ndarray:
    return np.asarray(landmarks[name], dtype=np.float64)


def estimate_pose(landmarks: Mapping[str, tuple[float, float]]) -> Pose:
    """Yaw, pitch, roll (degrees) from MTCNN's five points (weak perspective, average face).

    * **roll**: angle of the eye line, ``atan2(dy, dx)`` from ``left_eye`` to ``right_eye`` (image
      left to image right, y down): positive when the face is rotated clockwise on screen. The other
      points are then rotated by ``-roll`` about the eye midpoint.
    * **yaw**: the nose tip sits ``h`` in front of the eye/mouth plane, the eyes ``w`` = IOD/2 each
      side of the midline. Turning by ``yaw`` moves the projected nose off the midline (the line
      from eye midpoint to mouth midpoint, taken at the nose's height) by ``h sin(yaw)`` while the
      eyes shrink to ``w cos(yaw)``, so ``offset / (IOD/2) = (h/w) tan(yaw)``. Positive when the
      nose points to the image's right (the person turned to their left).
    * **pitch**: the nose's height between the eye line (0) and the mouth line (1) is
      ``r = r0 + (h / eye_mouth) tan(pitch_down)``. Positive when the chin is up (nose nearer the
      eye line).

    Landmarks of strongly turned faces are unreliable, so beyond ~50 degrees read these as "large".
    """
    left, right = _point(landmarks, "left_eye"), _point(landmarks, "right_eye")
    nose = _point(landmarks, "nose")
    mouth = (_point(landmarks, "mouth_left") + _point(landmarks, "mouth_right")) / 2
    dx, dy = right - left
    roll = math.degrees(math.atan2(dy, dx))
    iod = math.hypot(dx, dy)
    c, s = math.cos(math.radians(-roll)), math.sin(math.radians(-roll))
    rotate = np.array([[c, -s], [s, c]])
    eye_mid = (left + right) / 2
    nose_r = rotate @ (nose - eye_mid)
    mouth_r = rotate @ (mouth - eye_mid)
    eye_mouth = float(mouth_r[1])
    if iod < 1e-6 or eye_mouth < 1e-6:  # degenerate layout: no pose to speak of
        return Pose(yaw=0.0, pitch=0.0, roll=roll)
    ratio = float(nose_r[1]) / eye_mouth
    midline_x = ratio * float(mouth_r[0])
    offset = (float(nose_r[0]) - midline_x) / (iod / 2)
    yaw = math.degrees(math.atan(offset / NOSE_DEPTH_OVER_HALF_IOD))
    pitch = -math.degrees(math.atan((ratio - NEUTRAL_NOSE_RATIO) / NOSE_DEPTH_OVER_EYE_MOUTH))
    return Pose(yaw=yaw, pitch=pitch, roll=roll)


def inner_face_grey(face: Face, image: DecodedImage) -> np.ndarray:
    """Grey float32 crop of the central ``INNER_FRACTION`` of the box, at bounded resolution.

    Cut from ``image.detection`` when the crop there is at least ``ANALYSIS_SIDE`` px (large faces),
    else from ``image.pixels``; crops larger than twice ``ANALYSIS_SIDE`` are box-reduced by an
    integer factor. Keeps large faces as cheap as small ones (well under 2 ms).
    """
    b = face.box
    sources = sorted((image.detection, image.pixels), key=lambda a: a.shape[0] * a.shape[1])
    for array in sources:
        height, width = array.shape[:2]
        sx, sy = image.width / width, image.height / height
        cx, cy = (b.x_min + b.x_max) / 2 / sx, (b.y_min + b.y_max) / 2 / sy
        half_w, half_h = INNER_FRACTION * b.width / sx / 2, INNER_FRACTION * b.height / sy / 2
        if min(half_w, half_h) * 2 >= ANALYSIS_SIDE or array is sources[-1]:
            break
    x0, x1 = max(0, round(cx - half_w)), min(width, round(cx + half_w))
    y0, y1 = max(0, round(cy - half_h)), min(height, round(cy + half_h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((2, 2), np.float32)
    patch = np.ascontiguousarray(array[y0:y1, x0:x1])
    grey = Image.fromarray(patch).convert("L") if patch.ndim == 3 else Image.fromarray(patch)
    factor = min(grey.size) // ANALYSIS_SIDE
    if factor >= 2:
        grey = grey.reduce(factor)
    return np.asarray(grey, dtype=np.float32)


def laplacian_sharpness(grey: np.ndarray, side: int = SHARPNESS_SIDE) -> float:
    """Variance of the Laplacian of ``grey`` resampled to side x side and contrast-standardised."""
    img = Image.fromarray(np.ascontiguousarray(grey, dtype=np.float32))
    g = np.asarray(img.resize((side, side), Image.Resampling.BILINEAR), dtype=np.float64)
    g = (g - g.mean()) / max(float(g.std()), CONTRAST_NOISE_FLOOR)
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4.0 * g[1:-1, 1:-1]
    return float(lap.var())


def assess_face(face: Face, image: DecodedImage) -> FaceQuality:
    """Quality of ``face`` (coordinates in original pixels, as the engine returns it) in ``image``."""
    sx, sy = image.pixels_scale
    left, right = face.landmarks["left_eye"], face.landmarks["right_eye"]
    iod = math.hypot(right[0] - left[0], right[1] - left[1])
    effective = min(float(face.box.height), face.box.height / sy)
    grey = inner_face_grey(face, image)
    sharpness = laplacian_sharpness(grey)
    brightness, contrast = float(grey.mean()), float(grey.std())
    overexposed = float(np.mean(grey >= 250.0))
    pose = estimate_pose(face.landmarks)
    sub = {
        "size": ramp(effective, *SIZE_RAMP),
        "sharpness": log_ramp(sharpness, *SHARPNESS_RAMP),
        "pose_yaw": ramp(abs(pose.yaw), *YAW_RAMP),
        "pose_pitch": ramp(abs(pose.pitch), *PITCH_RAMP),
        "pose_roll": ramp(abs(pose.roll), *ROLL_RAMP),
        "dark": ramp(brightness, *DARK_RAMP),
        "overexposed": ramp(overexposed, *OVEREXPOSED_RAMP),
        "contrast": ramp(contrast, *CONTRAST_RAMP),
        "probability": ramp(float(face.probability), *PROBABILITY_RAMP),
    }
    flagged = {
        "small_face": sub["size"] < 0.5,
        "blurred": sub["sharpness"] < 0.5,
        "turned": min(sub["pose_yaw"], sub["pose_pitch"]) < 0.5,
        "tilted": sub["pose_roll"] < 0.5,
        "dark": sub["dark"] < 0.5,
        "overexposed": sub["overexposed"] < 0.5,
        "low_contrast": sub["contrast"] < 0.5,
        "low_probability": sub["probability"] < 0.5,
    }
    return FaceQuality(
        score=float(np.prod(list(sub.values()))),
        reasons=tuple(code for code in REASONS if flagged[code]),
        face_height_px=float(face.box.height),
        face_width_px=float(face.box.width),
        interocular_px=iod,
        effective_height_px=effective,
        sharpness=sharpness,
        yaw=pose.yaw,
        pitch=pose.pitch,
        roll=pose.roll,
        brightness=brightness,
        contrast=contrast,
        overexposed_fraction=overexposed,
        probability=float(face.probability),
        subscores=tuple(sub.items()),
    )


# --- decision rule -------------------------------------------------------------------------------

VERDICTS = ("match", "no_match", "uncertain")


@dataclass(frozen=True)
class Decision:
    """Outcome of comparing two faces under a ``MatchRule``."""

    verdict: str
    """``match``, ``no_match`` or ``uncertain`` (never a silent match)."""
    reason: str | None
    """Why uncertain: ``low_quality`` (a face below the floor), ``ambiguous_distance`` (in the band) or
    ``ambiguous_subject`` (within the edge, but another subject is nearly as near)."""
    tier: str
    """``good``, ``fair`` or ``low``: the quality tier of the worse of the two faces."""
    quality: float
    """The worse (lower) of the two quality scores."""
    relative_distance: float
    """distance / model threshold."""
    accept_below: float
    """Absolute distance at or below which this pair would be a match (0 for ``low``)."""
    reject_above: float
    """Absolute distance above which this pair would be a non-match."""

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "tier": self.tier,
            "quality": round(self.quality, 4),
            "relative_distance": round(self.relative_distance, 4),
            "accept_below": round(self.accept_below, 4),
            "reject_above": round(self.reject_above, 4),
        }


PURPOSES = ("search", "verify")
"""``search``: a face against the many faces of an application (image matches, clusters), the strict
edges; ``verify``: one pair a caller asked about (verify, CompreFace verification)."""


@dataclass(frozen=True)
class MatchRule:
    """Quality-aware rule; edges are relative distances ``d / t`` (t: model threshold).

    ``q = min(quality of both faces)``. Below ``quality_floor``: uncertain (``low_quality``).
    Otherwise the tier is ``good`` when ``q >= good_quality``, else ``fair``. Three kinds of
    decision, each with its own accept edge per tier (calibrated by ``bench/lfw.py`` on lfw-dev):

    * ``decide(..., purpose="search")``: one face against every stored face of an application (image
      matches, clusters): match when ``d/t <= accept_<tier>`` (the strict edge);
    * ``decide(..., purpose="verify")``: one pair a caller asked about: ``d/t <= verify_<tier>``;
    * ``identify``: the nearest subject of a gallery (recognize): match when ``d/t <=
      identify_<tier>`` **and** the next subject is at least ``identify_margin`` (relative) farther
      (``ambiguous_subject`` otherwise).

    Every kind answers no match when ``d/t > reject_<tier>`` and uncertain (``ambiguous_distance``)
    in between.
    """

    quality_floor: float
    good_quality: float
    accept_good: float
    accept_fair: float
    reject_good: float
    reject_fair: float
    verify_good: float = 0.0
    verify_fair: float = 0.0
    identify_good: float = 0.0
    identify_fair: float = 0.0
    identify_margin: float = 0.0

    def _tier(self, quality: float) -> str:
        if quality < self.quality_floor:
            return "low"
        return "good" if quality >= self.good_quality else "fair"

    def _verdict(
        self,
        relative: float,
        tier: str,
        accept: float,
        quality: float,
        threshold: float,
        ambiguous: bool = False,
    ) -> Decision:
        reject = self.reject_good if tier == "good" else self.reject_fair
        reject = max(reject, accept)
        if relative <= accept and not ambiguous:
            verdict, reason = "match", None
        elif relative > reject:
            verdict, reason = "no_match", None
        else:
            verdict = "uncertain"
            reason = "ambiguous_subject" if relative <= accept else "ambiguous_distance"
        return Decision(verdict, reason, tier, quality, relative, accept * threshold, reject * threshold)

    def accept_edge(self, tier: str, purpose: str = "search") -> float:
        """The relative accept edge of ``tier`` (``good``/``fair``) for ``purpose`` or ``identify``."""
        if purpose not in (*PURPOSES, "identify"):
            raise ValueError(f"unknown purpose {purpose!r}")
        prefix = {"search": "accept", "verify": "verify", "identify": "identify"}[purpose]
        edge = getattr(self, f"{prefix}_{tier}")
        return edge if edge > 0 else getattr(self, f"accept_{tier}")

    def decide(
        self, distance: float, threshold: float, quality_a: float, quality_b: float, purpose: str = "search"
    ) -> Decision:
        """Verdict for two faces at L2 ``distance`` under a model whose threshold is ``threshold``."""
        quality = float(min(quality_a, quality_b))
        relative = float(distance) / float(threshold)
        tier = self._tier(quality)
        if tier == "low":
            return Decision("uncertain", "low_quality", "low", quality, relative, 0.0, 0.0)
        return self._verdict(relative, tier, self.accept_edge(tier, purpose), quality, threshold)

    def identify(
        self,
        distance: float,
        threshold: float,
        quality_a: float,
        quality_b: float,
        runner_up: float | None = None,
    ) -> Decision:
        """Verdict for the nearest subject of a gallery at L2 ``distance`` (to its template, see
        ``subject_template``); ``runner_up``: the distance to the next-nearest subject (None: none)."""
        quality = float(min(quality_a, quality_b))
        relative = float(distance) / float(threshold)
        tier = self._tier(quality)
        if tier == "low":
            return Decision("uncertain", "low_quality", "low", quality, relative, 0.0, 0.0)
        margin = math.inf if runner_up is None else (float(runner_up) - float(distance)) / float(threshold)
        accept = self.accept_edge(tier, "identify")
        return self._verdict(
            relative, tier, accept, quality, threshold, ambiguous=margin < self.identify_margin
        )


def subject_template(vectors: np.ndarray) -> np.ndarray:
    """A subject's template: the unit mean of its examples' unit embeddings (one example: itself)."""
    x = np.asarray(vectors, dtype=np.float64).reshape(len(vectors), -1)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    mean = x.mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


MATCH_RULES: dict[str, MatchRule] = {
    "facenet": MatchRule(
        0.05,
        0.5,
        accept_good=0.64,
        accept_fair=0.64,
        reject_good=1.01,
        reject_fair=1.08,
        verify_good=0.905,
        verify_fair=0.905,
        identify_good=0.75,
        identify_fair=0.75,
        identify_margin=0.225,
    ),
    "facenet512": MatchRule(
        0.05,
        0.5,
        accept_good=0.765,
        accept_fair=0.765,
        reject_good=1.08,
        reject_fair=1.14,
        verify_good=0.905,
        verify_fair=0.905,
        identify_good=0.775,
        identify_fair=0.775,
        identify_margin=0.15,
    ),
    "dlib": MatchRule(
        0.05,
        0.5,
        accept_good=0.79,
        accept_fair=0.79,
        reject_good=1.09,
        reject_fair=1.16,
        verify_good=0.955,
        verify_fair=0.95,
        identify_good=0.825,
        identify_fair=0.82,
        identify_margin=0.15,
    ),
}
"""Shipped rule per model (relative distances), as ``bench/lfw.py --fit`` prints it from lfw-dev: search
edges at a false-accept rate of 1e-5 per comparison, verify edges at 5e-4, identification edge and
margin naming at most 0.3 % of strangers per probe at gallery 1,000 (docs/models.md)."""


# --- dominant face of an example photo -----------------------------------------------------------

DOMINANT_SIZE_RATIO = 1.5
"""The chosen face's box is at least this many times as tall as every other usable face's..."""
DOMINANT_SHARP_RATIO = 1.25
"""...or at least this many times as tall while every other usable face is below the good tier."""
DOMINANT_CUT_RATIO = 1.0
"""...or at least as tall while every other usable face is cut by the image border and it is not."""
DOMINANT_CENTRE = 0.25
"""Its centre is within this fraction of the image's width and height of the image centre."""
BORDER_PX = 1.0
"""A box within this many pixels of the image's edge is cut by it (the engine clips boxes to the image)."""


@dataclass(frozen=True)
class FaceSummary:
    """What ``dominant_face`` looks at: box (original pixels) and quality score."""

    x_min: float
    y_min: float
    x_max: float
    y_max: float
    quality: float


def dominant_face(
    faces: list[FaceSummary], width: float, height: float, quality_floor: float, good_quality: float
) -> int | None:
    """Index of the face an example photo with several faces clearly shows, else None.

    Faces below ``quality_floor`` are ignored (they could never be matched). With one usable face left
    it is that one. Otherwise the tallest usable face is chosen only when it is in the good tier, its
    centre lies in the central part of the image (``DOMINANT_CENTRE``), it is nearer the centre than
    every other usable face, and it is much taller than each of them (``DOMINANT_SIZE_RATIO``;
    ``DOMINANT_SHARP_RATIO`` when the others are all below the good tier: out of focus, turned, small;
    ``DOMINANT_CUT_RATIO`` when the others are all cut by the image border and it is whole). A couple
    or a group of similar whole faces stays ambiguous (None).
    """
    usable = [i for i, f in enumerate(faces) if f.quality >= quality_floor]
    if len(usable) <= 1:
        return usable[0] if usable else None

    def tall(i: int) -> float:
        return faces[i].y_max - faces[i].y_min

    def offset(i: int) -> tuple[float, float]:
        f = faces[i]
        return (
            abs((f.x_min + f.x_max) / 2 - width / 2) / width,
            abs((f.y_min + f.y_max) / 2 - height / 2) / height,
        )

    usable.sort(key=lambda i: -tall(i))
    top, others = usable[0], usable[1:]
    if faces[top].quality < good_quality or max(offset(top)) > DOMINANT_CENTRE:
        return None
    if any(math.hypot(*offset(i)) <= math.hypot(*offset(top)) for i in others):
        return None

    def cut(i: int) -> bool:
        f = faces[i]
        return min(f.x_min, f.y_min, width - f.x_max, height - f.y_max) <= BORDER_PX

    if all(cut(i) for i in others) and not cut(top):
        ratio = DOMINANT_CUT_RATIO
    elif all(faces[i].quality < good_quality for i in others):
        ratio = DOMINANT_SHARP_RATIO
    else:
        ratio = DOMINANT_SIZE_RATIO
    return top if all(tall(top) >= ratio * tall(i) for i in others) else None
