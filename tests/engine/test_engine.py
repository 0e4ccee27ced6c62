"""The Engine on real photos with the real detector (and a real embedding model when available)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facecore.engine import Engine, get_engine
from facecore.errors import ImageError, ModelUnavailableError, NoFaceError
from facecore.types import LANDMARK_NAMES, Face

from .images import encode, exif_rotated_jpeg

# skimage's astronaut (Eileen Collins), 512x512: where her face and eyes are (checked by eye).
ASTRONAUT_FACE = (175, 55, 275, 180)  # x_min, y_min, x_max, y_max of the head, generous
ASTRONAUT_EYES = ((204, 100), (246, 102))  # on the image's left side, on its right side


def box_tuple(face: Face) -> tuple[int, int, int, int]:
    b = face.box
    return b.x_min, b.y_min, b.x_max, b.y_max


def test_astronaut_face_is_where_it_is(engine: Engine, astronaut_jpeg: bytes) -> None:
    [result] = engine.detect([astronaut_jpeg])
    assert (result.width, result.height) == (512, 512)
    assert len(result.faces) == 1
    face = result.faces[0]
    x0, y0, x1, y1 = ASTRONAUT_FACE
    assert x0 <= face.box.x_min < face.box.x_max <= x1
    assert y0 <= face.box.y_min < face.box.y_max <= y1
    assert face.box.width > 50 and face.box.height > 50
    assert face.probability >= engine.settings.det_prob_threshold
    assert tuple(face.landmarks) == LANDMARK_NAMES
    # MTCNN naming, kept as ours: "left_eye" is the eye on the image's left (the person's right).
    for name, (x, y) in zip(("left_eye", "right_eye"), ASTRONAUT_EYES, strict=True):
        assert face.landmarks[name] == pytest.approx((x, y), abs=4)
    assert face.landmarks["left_eye"][0] < face.landmarks["right_eye"][0]
    assert set(result.timings_ms) == {"decode", "detect"}


def test_face_json_shape(engine: Engine, astronaut_jpeg: bytes) -> None:
    face = engine.detect([astronaut_jpeg])[0].faces[0].to_dict()
    assert set(face) == {"box", "probability", "landmarks"}
    assert set(face["box"]) == {"x_min", "y_min", "x_max", "y_max"}
    assert all(isinstance(v, int) for v in face["box"].values())
    assert set(face["landmarks"]) == set(LANDMARK_NAMES)
    assert all(len(p) == 2 for p in face["landmarks"].values())


def test_decoded_image_input_gives_the_same_faces(engine: Engine, astronaut_jpeg: bytes) -> None:
    from_bytes = engine.detect([astronaut_jpeg])[0]
    from_decoded = engine.detect([engine.decode(astronaut_jpeg)])[0]
    assert [box_tuple(f) for f in from_decoded.faces] == [box_tuple(f) for f in from_bytes.faces]
    assert from_decoded.timings_ms["decode"] == 0.0


def test_photo_without_faces_gives_no_faces(engine: Engine) -> None:
    gradient = np.tile(np.linspace(0, 255, 300, dtype=np.uint8)[None, :, None], (200, 1, 3))
    [result] = engine.detect([encode(gradient, "PNG")])
    assert result.faces == []
    assert (result.width, result.height) == (300, 200)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_photo_gives_upright_coordinates(
    engine: Engine, astronaut: np.ndarray, astronaut_jpeg: bytes, orientation: int
) -> None:
    [upright] = engine.detect([astronaut_jpeg])
    [rotated] = engine.detect([exif_rotated_jpeg(astronaut, orientation)])
    assert (rotated.width, rotated.height) == (512, 512)
    assert len(rotated.faces) == 1
    assert box_tuple(rotated.faces[0]) == pytest.approx(box_tuple(upright.faces[0]), abs=8)
    for name in LANDMARK_NAMES:
        assert rotated.faces[0].landmarks[name] == pytest.approx(upright.faces[0].landmarks[name], abs=3)


def test_exif_rotated_portrait_keeps_viewer_width_and_height(engine: Engine, astronaut: np.ndarray) -> None:
    portrait = np.asarray(Image.fromarray(astronaut).resize((400, 600)))
    [upright] = engine.detect([encode(portrait, quality=95)])
    [rotated] = engine.detect([exif_rotated_jpeg(portrait, 6)])
    assert (rotated.width, rotated.height) == (400, 600)
    assert box_tuple(rotated.faces[0]) == pytest.approx(box_tuple(upright.faces[0]), abs=8)


def test_downscaled_detection_maps_back_to_original_pixels(engine: Engine, astronaut: np.ndarray) -> None:
    """A 3x upscaled photo is detected at 1024 px, yet boxes come back in its own 1536 px space."""
    [small] = engine.detect([encode(astronaut, quality=95)])
    big = np.asarray(Image.fromarray(astronaut).resize((1536, 1536), Image.Resampling.BICUBIC))
    [large] = engine.detect([encode(big, quality=95)])
    assert (large.width, large.height) == (1536, 1536)
    expected = [3 * v for v in box_tuple(small.faces[0])]
    assert box_tuple(large.faces[0]) == pytest.approx(expected, abs=15)
    for name in LANDMARK_NAMES:
        x, y = small.faces[0].landmarks[name]
        assert large.faces[0].landmarks[name] == pytest.approx((3 * x, 3 * y), abs=9)


def test_batch_matches_one_by_one_and_keeps_order(engine: Engine, astronaut: np.ndarray) -> None:
    """Mixed sizes, a faceless image first: batching must not shift or swap any result."""
    blank = encode(np.full((240, 320, 3), 128, np.uint8), "PNG")
    face = encode(astronaut, quality=95)
    portrait = encode(np.asarray(Image.fromarray(astronaut).resize((300, 450))), quality=95)
    images = [blank, face, portrait, face]
    batched = engine.detect(images)
    singles = [engine.detect([image])[0] for image in images]
    assert [len(r.faces) for r in batched] == [0, 1, 1, 1]
    for b, s in zip(batched, singles, strict=True):
        assert (b.width, b.height) == (s.width, s.height)
        assert [v for f in b.faces for v in box_tuple(f)] == pytest.approx(
            [v for f in s.faces for v in box_tuple(f)], abs=2
        )


def test_bad_bytes_raise_image_error(engine: Engine, astronaut_jpeg: bytes) -> None:
    with pytest.raises(ImageError) as info:
        engine.detect([astronaut_jpeg, b"not an image"])
    assert info.value.code == ImageError.NOT_AN_IMAGE


def test_get_engine_is_one_per_process() -> None:
    assert get_engine() is get_engine()


# --- on the shared deepface photos ------------------------------------------------------------


def test_couple_has_two_faces_largest_first(engine: Engine, deepface_pairs: Path) -> None:
    [result] = engine.detect([(deepface_pairs / "couple.jpg").read_bytes()])
    assert len(result.faces) == 2
    areas = [f.box.area for f in result.faces]
    assert areas == sorted(areas, reverse=True)
    left, right = sorted(result.faces, key=lambda f: f.box.x_min)
    assert left.box.x_max <= right.box.x_min + left.box.width // 4  # two different people, side by side


def test_selfie_has_many_faces(engine: Engine, deepface_pairs: Path) -> None:
    [result] = engine.detect([(deepface_pairs / "selfie-many-people.jpg").read_bytes()])
    assert len(result.faces) >= 4
    for face in result.faces:
        assert 0 <= face.box.x_min < face.box.x_max <= result.width
        assert 0 <= face.box.y_min < face.box.y_max <= result.height


def test_limit_keeps_the_largest_faces(engine: Engine, deepface_pairs: Path) -> None:
    data = (deepface_pairs / "selfie-many-people.jpg").read_bytes()
    [everything] = engine.detect([data])
    [two] = engine.detect([data], limit=2)
    [one] = engine.detect([data], limit=1)
    by_area = sorted(everything.faces, key=lambda f: f.box.area, reverse=True)
    assert [box_tuple(f) for f in two.faces] == [box_tuple(f) for f in by_area[:2]]
    assert [box_tuple(f) for f in one.faces] == [box_tuple(by_area[0])]


def test_det_prob_threshold_filters(engine: Engine, deepface_pairs: Path) -> None:
    data = (deepface_pairs / "selfie-many-people.jpg").read_bytes()
    [loose] = engine.detect([data], det_prob_threshold=0.5)
    probabilities = sorted(f.probability for f in loose.faces)
    assert len(probabilities) >= 2 and probabilities[0] < probabilities[-1]
    cut = (probabilities[0] + probabilities[1]) / 2
    [strict] = engine.detect([data], det_prob_threshold=cut)
    assert len(strict.faces) == len(loose.faces) - 1
    assert all(f.probability >= cut for f in strict.faces)


def test_min_face_size_drops_small_faces(engine: Engine, deepface_pairs: Path) -> None:
    data = (deepface_pairs / "selfie-many-people.jpg").read_bytes()
    decoded = engine.decode(data)
    sx, sy = decoded.detection_scale
    [all_faces] = engine.detect([decoded], min_face_size=20)
    sides = sorted(max(f.box.width / sx, f.box.height / sy) for f in all_faces.faces)  # detection pixels
    min_size = int((sides[0] + sides[-1]) / 2)
    [big_only] = engine.detect([decoded], min_face_size=min_size)
    assert 1 <= len(big_only.faces) < len(all_faces.faces)
    assert all(max(f.box.width / sx, f.box.height / sy) >= min_size for f in big_only.faces)


# --- embedding: needs a model's weights -------------------------------------------------------


@pytest.fixture(scope="session")
def model(engine: Engine) -> str:
    """The first embedding model that loads here (facenet needs ``models fetch``; dlib ships its weights)."""
    reasons = []
    for name in ("facenet", "dlib", "facenet512"):
        try:
            engine.embedder(name)
        except (ModelUnavailableError, ImportError, KeyError, OSError) as exc:
            reasons.append(f"{name}: {exc}")
        else:
            return name
    pytest.skip("no embedding model available: " + "; ".join(reasons))


def pivot_pairs(folder: Path) -> list[tuple[str, str, bool]]:
    with open(folder / "face-recognition-pivot.csv", newline="") as fh:
        return [
            (Path(r["file_x"]).name, Path(r["file_y"]).name, r["decision"] == "Yes")
            for r in csv.DictReader(fh)
        ]


def test_analyze_embeds_every_face_in_one_call(engine: Engine, model: str, deepface_pairs: Path) -> None:
    images = [(deepface_pairs / n).read_bytes() for n in ("couple.jpg", "img1.jpg")]
    results = engine.analyze(images, model=model)
    assert [len(r.faces) for r in results] == [2, 1]
    dimension = engine.embedder(model).dimension
    for result in results:
        assert "embed" in result.timings_ms
        for face in result.faces:
            assert face.model == model
            assert face.embedding.shape == (dimension,)
            assert face.embedding.dtype == np.float32
            assert np.linalg.norm(face.embedding) == pytest.approx(1.0, abs=1e-3)
    a, b = results[0].faces
    assert not np.allclose(a.embedding, b.embedding)  # two different people


def test_embedding_does_not_depend_on_batch_company(engine: Engine, model: str, deepface_pairs: Path) -> None:
    img1 = (deepface_pairs / "img1.jpg").read_bytes()
    alone = engine.analyze([img1], model=model)[0].faces[0].embedding
    together = engine.analyze([(deepface_pairs / "couple.jpg").read_bytes(), img1], model=model)[1].faces[0]
    assert np.linalg.norm(alone - together.embedding) < 1e-3


def test_compare_same_and_different_person(engine: Engine, model: str, deepface_pairs: Path) -> None:
    labels = {(a, b): same for a, b, same in pivot_pairs(deepface_pairs)}
    same, different = ("img38.jpg", "img39.jpg"), ("img16.jpg", "img24.jpg")  # clear cases for every model
    assert labels[same] is True and labels[different] is False

    def read(name: str) -> bytes:
        return (deepface_pairs / name).read_bytes()

    yes = engine.compare(read(same[0]), read(same[1]), model=model)
    no = engine.compare(read(different[0]), read(different[1]), model=model)
    assert yes.model == no.model == model
    assert yes.threshold == no.threshold == engine.embedder(model).threshold
    assert yes.verified and yes.distance <= yes.threshold and yes.similarity > 0.5
    assert not no.verified and no.distance > no.threshold and no.similarity < 0.5
    self_compare = engine.compare(read(same[0]), read(same[0]), model=model)
    assert self_compare.distance == pytest.approx(0.0, abs=1e-3)


def test_compare_without_a_face_is_no_face(engine: Engine, model: str, astronaut_jpeg: bytes) -> None:
    blank = encode(np.full((200, 200, 3), 90, np.uint8), "PNG")
    with pytest.raises(NoFaceError) as info:
        engine.compare(astronaut_jpeg, blank, model=model)
    assert info.value.code == "no_face"
    assert info.value.index == 1
