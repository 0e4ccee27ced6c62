"""Face quality and the quality-aware match rule, on synthetic images and landmarks (no models)."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageFilter

from facecore.decode import DecodedImage
from facecore.quality import (
    NEUTRAL_NOSE_RATIO,
    REASONS,
    FaceQuality,
    FaceSummary,
    MatchRule,
    assess_face,
    dominant_face,
    estimate_pose,
    laplacian_sharpness,
    subject_template,
)
from facecore.types import LANDMARK_NAMES, Box, Face

IOD = 40.0


def frontal_points(
    cx: float = 100.0, eye_y: float = 80.0, iod: float = IOD
) -> dict[str, tuple[float, float]]:
    """A frontal face: nose on the midline at the neutral height between eye and mouth lines."""
    eye_mouth = 1.02 * iod
    return {
        "left_eye": (cx - iod / 2, eye_y),
        "right_eye": (cx + iod / 2, eye_y),
        "nose": (cx, eye_y + NEUTRAL_NOSE_RATIO * eye_mouth),
        "mouth_left": (cx - 0.4 * iod, eye_y + eye_mouth),
        "mouth_right": (cx + 0.4 * iod, eye_y + eye_mouth),
    }


def rotated(points: dict[str, tuple[float, float]], degrees: float) -> dict[str, tuple[float, float]]:
    """Rotate clockwise on screen (y down) about the eye midpoint."""
    (lx, ly), (rx, ry) = points["left_eye"], points["right_eye"]
    ox, oy = (lx + rx) / 2, (ly + ry) / 2
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return {
        k: (ox + c * (x - ox) - s * (y - oy), oy + s * (x - ox) + c * (y - oy))
        for k, (x, y) in points.items()
    }


def moved_nose(
    points: dict[str, tuple[float, float]], dx: float = 0.0, dy: float = 0.0
) -> dict[str, tuple[float, float]]:
    x, y = points["nose"]
    return points | {"nose": (x + dx, y + dy)}


# --- pose --------------------------------------------------------------------------------------------


def test_frontal_layout_has_no_pose() -> None:
    pose = estimate_pose(frontal_points())
    assert abs(pose.yaw) < 0.5 and abs(pose.pitch) < 0.5 and abs(pose.roll) < 0.5


def test_nose_off_the_midline_is_yaw_with_its_sign_and_size() -> None:
    # offset of half the half-IOD: tan(yaw) = 0.5 / 0.86 -> about 30 degrees
    right = estimate_pose(moved_nose(frontal_points(), dx=IOD / 4))
    left = estimate_pose(moved_nose(frontal_points(), dx=-IOD / 4))
    assert right.yaw == pytest.approx(math.degrees(math.atan(0.5 / 0.86)), abs=0.5)
    assert left.yaw == pytest.approx(-right.yaw, abs=1e-6)
    assert abs(right.pitch) < 0.5 and abs(right.roll) < 0.5


def test_nose_towards_the_eyes_is_chin_up_pitch() -> None:
    eye_mouth = 1.02 * IOD
    up = estimate_pose(moved_nose(frontal_points(), dy=-0.42 * math.tan(math.radians(20)) * eye_mouth))
    down = estimate_pose(moved_nose(frontal_points(), dy=+0.15 * eye_mouth))
    assert up.pitch == pytest.approx(20.0, abs=0.5)
    assert down.pitch < -15
    assert abs(up.yaw) < 0.5 and abs(up.roll) < 0.5


@pytest.mark.parametrize("degrees", [-35.0, -10.0, 15.0, 40.0])
def test_roll_is_the_eye_line_angle_and_does_not_leak_into_yaw_or_pitch(degrees: float) -> None:
    pose = estimate_pose(rotated(frontal_points(), degrees))
    assert pose.roll == pytest.approx(degrees, abs=1e-6)
    assert abs(pose.yaw) < 0.5 and abs(pose.pitch) < 0.5
    turned = estimate_pose(rotated(moved_nose(frontal_points(), dx=IOD / 4), degrees))
    assert turned.yaw == pytest.approx(estimate_pose(moved_nose(frontal_points(), dx=IOD / 4)).yaw, abs=0.5)


def test_degenerate_landmarks_do_not_raise() -> None:
    same_point = {name: (10.0, 10.0) for name in LANDMARK_NAMES}
    pose = estimate_pose(same_point)
    assert (pose.yaw, pose.pitch) == (0.0, 0.0)


# --- images --------------------------------------------------------------------------------------


def texture(side: int, seed: int = 0, cell: int = 6) -> np.ndarray:
    """Grey blocks with sharp edges (a stand-in for facial detail), RGB uint8, side x side."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(40, 216, size=(side // cell + 1, side // cell + 1), dtype=np.uint8)
    grey = np.kron(cells, np.ones((cell, cell), np.uint8))[:side, :side]
    return np.repeat(grey[:, :, None], 3, axis=2)


def image_with_face(
    face_side: int,
    image_side: int | None = None,
    *,
    blur: float = 0.0,
    gain: float = 1.0,
    offset: float = 0.0,
    working_factor: int = 1,
    seed: int = 0,
) -> tuple[Face, DecodedImage]:
    """A textured face_side square centred on a grey image; landmarks frontal inside the box.

    ``working_factor`` > 1 makes ``pixels`` that much smaller than the original (as for huge photos).
    """
    image_side = image_side or max(3 * face_side, 200)
    canvas = np.full((image_side, image_side, 3), 128, np.uint8)
    x0 = (image_side - face_side) // 2
    canvas[x0 : x0 + face_side, x0 : x0 + face_side] = texture(face_side, seed)
    img = Image.fromarray(canvas)
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    pixels = np.clip(np.asarray(img, np.float32) * gain + offset, 0, 255).astype(np.uint8)
    if working_factor > 1:
        small = image_side // working_factor
        pixels = np.asarray(Image.fromarray(pixels).resize((small, small), Image.Resampling.BILINEAR))
    box = Box(x0, x0, x0 + face_side, x0 + face_side)
    points = frontal_points(cx=x0 + face_side / 2, eye_y=x0 + 0.38 * face_side, iod=0.4 * face_side)
    decoded = DecodedImage(width=image_side, height=image_side, format="PNG", pixels=pixels, detection=pixels)
    return Face(box=box, probability=0.999, landmarks=points), decoded


def test_a_large_sharp_frontal_well_lit_face_is_good() -> None:
    quality = assess_face(*image_with_face(200))
    assert quality.reasons == ()
    assert quality.score == pytest.approx(1.0)
    assert quality.face_height_px == 200 and quality.effective_height_px == 200
    assert quality.interocular_px == pytest.approx(80.0)


def test_blur_lowers_sharpness_and_is_reported() -> None:
    sharp = assess_face(*image_with_face(200))
    blurred = assess_face(*image_with_face(200, blur=8.0))
    assert blurred.sharpness < sharp.sharpness / 10
    assert "blurred" in blurred.reasons and "blurred" not in sharp.reasons
    assert blurred.score < 0.5 * sharp.score


def test_sharpness_is_comparable_across_face_sizes_and_contrast() -> None:
    big = np.asarray(Image.fromarray(texture(800, cell=24)).convert("L"), np.float32)
    half = np.asarray(Image.fromarray(big).resize((400, 400), Image.Resampling.BILINEAR), np.float32)
    quarter = np.asarray(Image.fromarray(big).resize((200, 200), Image.Resampling.BILINEAR), np.float32)
    values = [laplacian_sharpness(x) for x in (big, half, quarter)]
    assert max(values) / min(values) < 1.5
    assert laplacian_sharpness(0.5 * (big - 128) + 128) == pytest.approx(values[0], rel=0.05)


def test_a_tiny_face_is_small_and_a_large_one_is_not() -> None:
    tiny = assess_face(*image_with_face(28, 400))
    large = assess_face(*image_with_face(160, 400))
    assert "small_face" in tiny.reasons and "small_face" not in large.reasons
    assert tiny.score < 0.05 < 0.9 < large.score


def test_effective_size_counts_the_working_image_pixels() -> None:
    quality = assess_face(*image_with_face(120, 600, working_factor=3))
    assert quality.face_height_px == 120
    assert quality.effective_height_px == pytest.approx(40, abs=1)
    assert "small_face" in quality.reasons


def test_dark_and_overexposed_faces_are_reported() -> None:
    dark = assess_face(*image_with_face(200, gain=0.1))
    bright = assess_face(*image_with_face(200, gain=2.5, offset=60))
    assert "dark" in dark.reasons and "dark" not in bright.reasons
    assert "overexposed" in bright.reasons and "overexposed" not in dark.reasons
    assert dark.brightness < 20 < 240 < bright.brightness


def test_turned_face_and_low_probability_are_reported() -> None:
    face, decoded = image_with_face(200)
    iod = 0.4 * 200
    turned = dataclasses.replace(face, landmarks=moved_nose(face.landmarks, dx=0.75 * iod))
    unsure = dataclasses.replace(face, probability=0.82)
    assert "turned" in assess_face(turned, decoded).reasons
    assert assess_face(turned, decoded).yaw > 50
    assert "low_probability" in assess_face(unsure, decoded).reasons
    assert (
        "tilted"
        in assess_face(dataclasses.replace(face, landmarks=rotated(face.landmarks, 60)), decoded).reasons
    )


def test_quality_is_frozen_hashable_and_json_ready() -> None:
    quality = assess_face(*image_with_face(60, 300, blur=2.0))
    assert isinstance(quality, FaceQuality)
    with pytest.raises(dataclasses.FrozenInstanceError):
        quality.score = 1.0  # type: ignore[misc]
    hash(quality)
    data = json.loads(json.dumps(quality.to_dict()))
    assert 0.0 <= data["score"] <= 1.0
    assert set(data["reasons"]) <= set(REASONS)
    assert set(data["subscores"]) == {
        "size",
        "sharpness",
        "pose_yaw",
        "pose_pitch",
        "pose_roll",
        "dark",
        "overexposed",
        "contrast",
        "probability",
    }


def test_a_box_at_the_image_border_is_fine() -> None:
    face, decoded = image_with_face(100, 300)
    edge = dataclasses.replace(face, box=Box(0, 0, 3, 3))
    quality = assess_face(edge, decoded)
    assert 0.0 <= quality.score <= 1.0


def test_importing_quality_loads_no_tensorflow() -> None:
    code = "import sys, facecore.quality; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- the match rule ------------------------------------------------------------------------------

RULE = MatchRule(
    quality_floor=0.05,
    good_quality=0.5,
    accept_good=0.8,
    accept_fair=0.76,
    reject_good=1.05,
    reject_fair=1.12,
)


def test_a_low_quality_face_is_never_a_match() -> None:
    decision = RULE.decide(0.0, 1.0, 0.9, 0.01)
    assert (decision.verdict, decision.reason, decision.tier) == ("uncertain", "low_quality", "low")


@pytest.mark.parametrize(
    ("relative", "q", "verdict", "tier"),
    [
        (0.79, 0.9, "match", "good"),
        (0.79, 0.3, "uncertain", "fair"),  # the fair tier is stricter
        (0.75, 0.3, "match", "fair"),
        (0.95, 0.9, "uncertain", "good"),
        (1.08, 0.9, "no_match", "good"),
        (1.08, 0.3, "uncertain", "fair"),
        (1.2, 0.3, "no_match", "fair"),
    ],
)
def test_rule_edges_by_tier(relative: float, q: float, verdict: str, tier: str) -> None:
    threshold = 0.39
    decision = RULE.decide(relative * threshold, threshold, 1.0, q)
    assert (decision.verdict, decision.tier) == (verdict, tier)
    assert decision.reason == (None if verdict != "uncertain" else "ambiguous_distance")
    assert decision.quality == q
    assert decision.relative_distance == pytest.approx(relative)
    assert decision.to_dict()["verdict"] == verdict


GALLERY_RULE = MatchRule(
    quality_floor=0.05,
    good_quality=0.5,
    accept_good=0.64,
    accept_fair=0.6,
    reject_good=1.01,
    reject_fair=1.08,
    verify_good=0.81,
    verify_fair=0.77,
    identify_good=0.75,
    identify_fair=0.71,
    identify_margin=0.2,
)


def test_a_caller_s_pair_is_verified_within_the_verify_edge_a_stored_match_only_within_the_strict_one() -> (
    None
):
    assert GALLERY_RULE.decide(0.7, 1.0, 0.9, 0.9, purpose="verify").verdict == "match"
    strict = GALLERY_RULE.decide(0.7, 1.0, 0.9, 0.9)
    assert (strict.verdict, strict.reason) == ("uncertain", "ambiguous_distance")
    assert GALLERY_RULE.decide(0.79, 1.0, 0.9, 0.3, purpose="verify").verdict == "uncertain"  # fair tier


def test_the_nearest_subject_is_named_only_when_clearly_nearer_than_the_next() -> None:
    assert GALLERY_RULE.identify(0.6, 1.0, 0.9, 0.9, runner_up=1.0).verdict == "match"
    assert GALLERY_RULE.identify(0.6, 1.0, 0.9, 0.9, runner_up=None).verdict == "match"
    lookalike = GALLERY_RULE.identify(0.6, 1.0, 0.9, 0.9, runner_up=0.7)
    assert (lookalike.verdict, lookalike.reason) == ("uncertain", "ambiguous_subject")
    far = GALLERY_RULE.identify(0.9, 1.0, 0.9, 0.9, runner_up=1.4)
    assert (far.verdict, far.reason) == ("uncertain", "ambiguous_distance")
    assert GALLERY_RULE.identify(1.2, 1.0, 0.9, 0.9, runner_up=1.4).verdict == "no_match"


def test_a_face_below_the_floor_is_never_named_however_near() -> None:
    decision = GALLERY_RULE.identify(0.0, 1.0, 0.01, 0.9, runner_up=1.5)
    assert (decision.verdict, decision.reason) == ("uncertain", "low_quality")
    assert GALLERY_RULE.decide(0.0, 1.0, 0.01, 0.9, purpose="verify").verdict == "uncertain"


def test_a_rule_without_verify_or_identify_edges_uses_its_accept_edges() -> None:
    assert RULE.decide(0.79, 1.0, 0.9, 0.9, purpose="verify").verdict == "match"
    assert RULE.identify(0.79, 1.0, 0.9, 0.9, runner_up=0.8).verdict == "match"
    with pytest.raises(ValueError):
        RULE.decide(0.5, 1.0, 0.9, 0.9, purpose="nearby")


def test_a_subject_template_is_the_unit_mean_of_its_examples() -> None:
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
    template = subject_template(np.stack([a, b]))
    assert np.allclose(template, [2**-0.5, 2**-0.5, 0.0], atol=1e-6)
    assert np.allclose(subject_template(a[None]), a)


def face_at(cx: float, cy: float, height: float, quality: float = 0.9) -> FaceSummary:
    return FaceSummary(cx - height * 0.4, cy - height / 2, cx + height * 0.4, cy + height / 2, quality)


def test_a_news_photo_enrols_the_large_sharp_central_face() -> None:
    faces = [face_at(200, 120, 60), face_at(250, 240, 140)]  # someone small behind, the subject in front
    assert dominant_face(faces, 500, 500, 0.05, 0.5) == 1


def test_a_couple_or_an_off_centre_face_stays_ambiguous() -> None:
    assert dominant_face([face_at(150, 250, 130), face_at(350, 250, 120)], 500, 500, 0.05, 0.5) is None
    assert dominant_face([face_at(60, 250, 200), face_at(250, 250, 100)], 500, 500, 0.05, 0.5) is None
    blurred_main = [face_at(250, 250, 200, quality=0.3), face_at(100, 100, 60)]
    assert dominant_face(blurred_main, 500, 500, 0.05, 0.5) is None


def test_faces_below_the_floor_do_not_count_and_soft_background_faces_need_less_size() -> None:
    assert (
        dominant_face([face_at(100, 100, 300, quality=0.01), face_at(250, 250, 80)], 500, 500, 0.05, 0.5) == 1
    )
    soft_background = [face_at(250, 250, 110), face_at(120, 200, 85, quality=0.2)]
    assert dominant_face(soft_background, 500, 500, 0.05, 0.5) == 0
    sharp_background = [face_at(250, 250, 110), face_at(120, 200, 85)]
    assert dominant_face(sharp_background, 500, 500, 0.05, 0.5) is None


def test_a_face_cut_by_the_image_border_does_not_make_a_portrait_ambiguous() -> None:
    whole = face_at(250, 250, 120)
    cut = FaceSummary(0, 180, 90, 300, 0.9)  # as tall, but half outside the photo (boxes are clipped)
    assert dominant_face([whole, cut], 500, 500, 0.05, 0.5) == 0
    inside = FaceSummary(10, 180, 100, 300, 0.9)
    assert dominant_face([whole, inside], 500, 500, 0.05, 0.5) is None
