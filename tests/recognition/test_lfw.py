"""Recognition of LFW people through HTTP (real database, broker, worker and models), with the rule
calibrated on lfw-dev (docs/models.md). Needs ../shared/datasets/lfw-dev (skipped when absent).

The people were chosen from ``make bench-lfw``'s cached faces (default model ``facenet``) so that each
outcome holds with room to spare: the named probes are within 0.5 of their example (relative distance,
edge 0.75) and more than 1.15 from every other subject; the stranger is more than 1.15 from every
subject; Kevin Costner's photo 8 is 0.87 from his photo 2 (beyond the edge: unknown) and 0.59 from the
template of photos 2 and 6 (named).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image as PILImage
from PIL import ImageFilter

from tests.conftest import shared_dir
from tests.requests import enrol, recognize, upload

GALLERY = {
    "Chanda_Rubin": "Chanda_Rubin_0002.jpg",
    "Kevin_Costner": "Kevin_Costner_0002.jpg",
    "Aaron_Sorkin": "Aaron_Sorkin_0001.jpg",
    "Abdullah": "Abdullah_0001.jpg",
    "Abdullah_Gul": "Abdullah_Gul_0001.jpg",
    "Abdullatif_Sener": "Abdullatif_Sener_0001.jpg",
}


@pytest.fixture(scope="module")
def lfw():
    root = shared_dir() / "datasets" / "lfw-dev" / "images"
    if not (root / "Chanda_Rubin").is_dir():
        pytest.skip(f"lfw-dev not found at {root} (set FACECORE_SHARED_DIR)")

    def photo(name: str) -> bytes:
        return (root / name.rsplit("_", 1)[0] / name).read_bytes()

    return photo


@pytest.fixture
def gallery(api, lfw):
    for person, name in GALLERY.items():
        enrol(api, person, lfw(name))
    return api


def answer(api, data: bytes) -> dict:
    faces = recognize(api, data, prediction_count=2)["faces"]
    return min(faces, key=lambda f: abs((f["box"]["x_min"] + f["box"]["x_max"]) / 2 - 125))  # the centre face


def blurred(data: bytes, radius: float) -> bytes:
    with PILImage.open(io.BytesIO(data)) as img:
        out = io.BytesIO()
        img.convert("RGB").filter(ImageFilter.GaussianBlur(radius)).save(out, "JPEG", quality=92)
        return out.getvalue()


def test_two_other_photos_of_an_enrolled_person_are_named(gallery, lfw):
    for name in ("Chanda_Rubin_0003.jpg", "Chanda_Rubin_0004.jpg"):
        face = answer(gallery, lfw(name))
        assert (face["subject"], face["verdict"]) == ("Chanda_Rubin", "match"), face


def test_a_stranger_is_unknown(gallery, lfw):
    face = answer(gallery, lfw("AJ_Cook_0001.jpg"))
    assert face["unknown"] is True and face["subject"] is None, face


def test_a_degraded_copy_of_an_enrolled_person_stays_unknown(gallery, lfw):
    face = answer(gallery, blurred(lfw("Chanda_Rubin_0003.jpg"), 6))  # 5 % of the face height
    assert face["unknown"] is True and face["subject"] is None, face
    assert (face["verdict"], face["reason"]) == ("uncertain", "low_quality")


def test_a_subject_with_several_examples_is_named_where_one_example_is_not(gallery, lfw):
    probe = lfw("Kevin_Costner_0008.jpg")
    alone = answer(gallery, probe)
    assert alone["unknown"] is True and alone["subject"] is None, alone
    enrol(gallery, "Kevin_Costner", lfw("Kevin_Costner_0006.jpg"))
    named = answer(gallery, probe)
    assert (named["subject"], named["verdict"]) == ("Kevin_Costner", "match"), named


def test_a_news_photo_with_someone_behind_is_enrolled_and_the_item_says_so(api, lfw, tmp_path):
    from .test_bulk_import import wait_import

    photos = {
        "people/Jose_Miguel_Aleman/a.jpg": "Jose_Miguel_Aleman_0001.jpg",  # a 62 px face behind, 146 px in front
        "people/Silvio_Berlusconi/a.jpg": "Silvio_Berlusconi_0017.jpg",  # 55 px behind, 139 px in front
        "people/Charles_Grassley/a.jpg": "Charles_Grassley_0001.jpg",  # two whole sharp faces side by side
    }
    archive = tmp_path / "people.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, source in photos.items():
            z.writestr(name, lfw(source))
    with archive.open("rb") as f:
        response = api.post("/api/v1/imports", {"archive": f}, format="multipart")
    assert response.status_code == 202, response.content
    items = {i["file"]: i for i in wait_import(api, response["Location"])["items"]}
    for name in ("people/Jose_Miguel_Aleman/a.jpg", "people/Silvio_Berlusconi/a.jpg"):
        assert items[name]["status"] == "enrolled", items[name]
        assert items[name]["message"].startswith("dominant_face"), items[name]
    assert (
        items["people/Charles_Grassley/a.jpg"]["status"],
        items["people/Charles_Grassley/a.jpg"]["code"],
    ) == (
        "refused",
        "more_than_one_face",
    )
    # the enrolled face is the person's: another photo of Berlusconi is named
    face = answer(api, lfw("Silvio_Berlusconi_0009.jpg"))
    assert face["subject"] == "Silvio_Berlusconi", face


def verify(api, source: bytes, target: bytes) -> list[dict]:
    response = api.post(
        "/api/v1/verify", {"source_image": upload(source), "target_image": upload(target)}, format="multipart"
    )
    assert response.status_code == 200, response.content
    return response.json()["faces"]


def test_verify_answers_verified_for_a_standard_same_pair_and_not_for_the_closest_different_pair(api, lfw):
    # relative distance 0.79: issue 14's rule left it uncertain (edge 0.636), the verify edge is 0.905
    [same] = verify(api, lfw("Bob_Graham_0004.jpg"), lfw("Bob_Graham_0006.jpg"))
    assert (same["verified"], same["verdict"]) == (True, "match"), same
    # lfw-dev's closest different-person standard pair (0.97)
    faces = verify(api, lfw("Gian_Marco_0002.jpg"), lfw("Kevin_Stallings_0002.jpg"))
    assert not any(face["verified"] for face in faces), faces
