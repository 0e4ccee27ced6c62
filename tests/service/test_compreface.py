"""The CompreFace-compatible API (fast tier): CompreFace's shapes and error codes over the fake
engine (a colour is a person, tests/fakes.py). The real SDK, the real models and Double Take's
exact requests over HTTP are in tests/compreface/."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from adapters.compreface.errors import CODES
from images.models import Image
from infra.errors import ErrorCode
from recognition.models import Subject
from tests.fakes import BLUE, GREEN, RED, painted, person
from tests.service.helpers import upload

R = "/api/v1/recognition"
BOX_KEYS = ["probability", "x_max", "y_max", "x_min", "y_min"]


def photo_of(colour, shade: int = 0, side: int = 80) -> bytes:
    return painted([(60, 50, side, person(colour, shade))])


TWO = painted([(10, 10, 90, RED), (180, 40, 60, BLUE)])
NOBODY = painted([])


def add(api, subject: str, data: bytes, **query) -> dict:
    query_string = "&".join(f"{k}={v}" for k, v in {"subject": subject, **query}.items())
    response = api.post(f"{R}/faces?{query_string}", {"file": upload(data)}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def post(api, path: str, data: bytes, field: str = "file"):
    return api.post(path, {field: upload(data)}, format="multipart")


def refused(response, status: int, code: int) -> str:
    assert (response.status_code, response.json()["code"]) == (status, code), response.content
    assert list(response.json()) == ["message", "code"]
    return response.json()["message"]


def test_every_facecore_error_code_has_a_compreface_code():
    assert set(CODES) == set(ErrorCode)
    assert CODES[ErrorCode.NO_FACE].code == 28 and CODES[ErrorCode.MORE_THAN_ONE_FACE].code == 31


def test_subjects_add_list_rename_merge_delete(api):
    assert api.post(f"{R}/subjects", {"subject": "alice"}, format="json").json() == {"subject": "alice"}
    refused(api.post(f"{R}/subjects", {"subject": "ALICE"}, format="json"), 400, 43)
    refused(api.post(f"{R}/subjects", {"subject": " "}, format="json"), 400, 26)
    refused(api.post(f"{R}/subjects", {}, format="json"), 400, 26)
    refused(api.post(f"{R}/subjects", {"subject": "a/b"}, format="json"), 400, 36)
    api.post(f"{R}/subjects", {"subject": "bob"}, format="json")
    assert api.get(f"{R}/subjects/").json() == {"subjects": ["alice", "bob"]}

    # The SDK sends the old name again as "api_endpoint"; it is ignored.
    renamed = api.put(f"{R}/subjects/bob", {"subject": "robert", "api_endpoint": "bob"}, format="json")
    assert renamed.json() == {"updated": True}
    assert api.put(f"{R}/subjects/robert", {"subject": "robert"}, format="json").json() == {"updated": False}
    assert api.put(f"{R}/subjects/Robert", {"subject": "Robert"}, format="json").json() == {"updated": True}
    add(api, "alice", photo_of(RED))
    add(api, "Robert", photo_of(BLUE))
    merged = api.put(f"{R}/subjects/robert", {"subject": "Alice"}, format="json")  # any case: merge
    assert merged.json() == {"updated": True}
    assert api.get(f"{R}/subjects").json() == {"subjects": ["alice"]}
    assert api.get(f"{R}/faces").json()["total_elements"] == 2
    refused(api.put(f"{R}/subjects/nobody", {"subject": "x"}, format="json"), 404, 42)

    assert api.delete(f"{R}/subjects/ALICE").json() == {"subject": "alice"}
    refused(api.delete(f"{R}/subjects/alice"), 404, 42)
    for name in ("a", "b", "c"):
        api.post(f"{R}/subjects", {"subject": name}, format="json")
    assert api.delete(f"{R}/subjects").json() == {"deleted": 3}
    assert api.get(f"{R}/subjects").json() == {"subjects": []}


def test_examples_add_list_page_download_and_delete(api):
    first = add(api, "alice", photo_of(RED))
    assert list(first) == ["image_id", "subject"] and first["subject"] == "alice"
    b64 = base64.b64encode(photo_of(RED, 10)).decode()
    second = api.post(f"{R}/faces?subject=Alice&det_prob_threshold=0.5", {"file": b64}, format="json")
    assert second.status_code == 201 and second.json()["subject"] == "Alice"  # echoes the request
    assert Subject.objects.filter(name__iexact="alice").count() == 1  # ... but joins alice
    add(api, "bob", photo_of(BLUE))

    page = api.get(f"{R}/faces?page=0&size=2").json()
    assert set(page) == {"faces", "page_number", "page_size", "total_pages", "total_elements"}
    assert (page["page_number"], page["page_size"], page["total_pages"], page["total_elements"]) == (
        0,
        2,
        2,
        3,
    )
    assert page["faces"][0] == {"image_id": first["image_id"], "subject": "alice"}
    assert api.get(f"{R}/faces?page=1&size=2").json()["faces"] == [
        {"image_id": api.get(f"{R}/faces?subject=bob").json()["faces"][0]["image_id"], "subject": "bob"}
    ]
    assert api.get(f"{R}/faces?subject=alice").json()["total_elements"] == 2
    assert api.get(f"{R}/faces?size=junk&page=-3").json()["page_size"] == 20  # Spring's lenient paging

    image = api.get(f"{R}/faces/{first['image_id']}/img")
    assert image.status_code == 200 and image.content == photo_of(RED)  # the photo as uploaded
    key = api._credentials["HTTP_X_API_KEY"]
    static = APIClient().get(f"/api/v1/static/{key}/images/{first['image_id']}")
    assert static.status_code == 200 and static.content == photo_of(RED)
    refused(APIClient().get(f"/api/v1/static/wrong/images/{first['image_id']}"), 404, 10)

    assert api.delete(f"{R}/faces/{first['image_id']}").json() == {
        "image_id": first["image_id"],
        "subject": "alice",
    }
    refused(api.delete(f"{R}/faces/{first['image_id']}"), 404, 44)
    refused(api.get(f"{R}/faces/not-a-uuid/img"), 404, 44)
    assert api.delete(f"{R}/faces?subject=ALICE").json() == {"deleted": 1}
    assert api.get(f"{R}/faces?subject=alice").json()["total_elements"] == 0
    assert api.get(f"{R}/subjects").json()["subjects"] == ["alice", "bob"]  # CompreFace keeps the subject
    assert api.delete(f"{R}/subjects/alice").json() == {"subject": "alice"}  # so it can be deleted after
    assert api.delete(f"{R}/faces?subject=nobody").json() == {"deleted": 0}
    refused(api.delete(f"{R}/faces?subject="), 400, 26)


def test_several_examples_are_deleted_by_id_and_unknown_ids_are_skipped(api):
    ids = [add(api, "alice", photo_of(RED, s))["image_id"] for s in (0, 8)]
    unknown = "6b135f5b-a365-4522-b1f1-4c9ac2dd0728"
    deleted = api.post(f"{R}/faces/delete", [ids[0], unknown], format="json").json()
    assert deleted == [{"image_id": ids[0], "subject": "alice"}]
    refused(api.post(f"{R}/faces/delete", ["nope"], format="json"), 400, 26)
    assert api.delete(f"{R}/faces").json() == {"deleted": 1}  # no subject: every example (docs)
    assert api.get(f"{R}/faces").json()["total_elements"] == 0


def test_examples_are_refused_with_compreface_codes(api):
    assert (
        refused(post(api, f"{R}/faces?subject=a", NOBODY), 400, 28) == "No face is found in the given image"
    )
    refused(post(api, f"{R}/faces?subject=a", TWO), 400, 31)
    refused(post(api, f"{R}/faces", photo_of(RED)), 400, 33)
    refused(api.post(f"{R}/faces?subject=a", {}, format="multipart"), 400, 34)
    refused(api.post(f"{R}/faces?subject=a", {}, format="json"), 400, 5)
    refused(api.post(f"{R}/faces?subject=a", {"file": "not base64!"}, format="json"), 400, 21)
    url = {"file": "https://example.com/a.jpg"}
    assert "URL" in refused(api.post(f"{R}/faces?subject=a", url, format="json"), 400, 21)
    refused(post(api, f"{R}/faces?subject=a", b"not an image"), 400, 28)
    refused(post(api, f"{R}/faces?subject=a&face_plugins=pose", photo_of(RED)), 400, 26)
    assert not Image.objects.exists() and not Subject.objects.exists()


def test_recognize_answers_compreface_shapes(api):
    add(api, "alice", photo_of(RED, 10))
    add(api, "bob", photo_of(BLUE))
    body = post(api, f"{R}/recognize", photo_of(RED, -10)).json()
    assert list(body) == ["result"]
    (face,) = body["result"]
    assert list(face) == ["box", "subjects"] and list(face["box"]) == BOX_KEYS
    assert face["subjects"][0]["subject"] == "alice" and face["subjects"][0]["similarity"] > 0.5
    assert list(face["subjects"][0]) == ["subject", "similarity"]

    stranger = post(api, f"{R}/recognize?prediction_count=2", photo_of(GREEN)).json()["result"][0]
    assert [s["similarity"] < 0.5 for s in stranger["subjects"]] == [True, True]

    two = post(api, f"{R}/recognize?limit=0", TWO).json()["result"]
    assert [f["subjects"][0]["subject"] for f in two] == ["alice", "bob"]  # largest first
    assert len(post(api, f"{R}/recognize?limit=1", TWO).json()["result"]) == 1
    assert refused(post(api, f"{R}/recognize", NOBODY), 400, 28) == "No face is found in the given image"
    assert not Image.objects.filter(purpose="probe").exists()


def test_recognize_plugins_and_status(api):
    add(api, "alice", photo_of(RED))
    query = "face_plugins=calculator,landmarks, pose quality&status=True&prediction_count=1"
    face = post(api, f"{R}/recognize?&{query}", photo_of(RED, 5)).json()  # the SDK's "?&"
    (result,) = face["result"]
    assert len(result["embedding"]) == 128 and all(isinstance(x, float) for x in result["embedding"])
    assert len(result["landmarks"]) == 5 and all(
        len(p) == 2 and isinstance(p[0], int) for p in result["landmarks"]
    )
    assert set(result["pose"]) == {"pitch", "roll", "yaw"}
    assert 0 <= result["quality"]["score"] <= 1
    assert set(result["execution_time"]) == {"detector", "calculator"}
    assert face["plugins_versions"] == {
        "detector": "facecore.MTCNN",
        "calculator": "facecore.facenet",
        "pose": "facecore.PoseEstimator",
        "quality": "facecore.FaceQuality",
    }
    # Double Take sends face_plugins=undefined when none is configured.
    plain = post(api, f"{R}/recognize?face_plugins=undefined&det_prob_threshold=0.8", photo_of(RED)).json()
    assert list(plain["result"][0]) == ["box", "subjects"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("face_plugins=age,gender", "age, gender"),
        ("face_plugins=mask", "calculator, landmarks, pose, quality"),
        ("face_plugins=bogus", "bogus"),
        ("prediction_count=0", "prediction_count should be equal or greater than 1"),
        ("limit=-1", "Limit should be equal or greater than 0"),
        ("limit=abc", "limit"),
        ("status=maybe", "status"),
        ("det_prob_threshold=1.5", "det_prob_threshold"),
        ("detect_faces=false", "detect_faces"),
    ],
)
def test_bad_options_are_refused_with_code_26(api, query, fragment):
    assert fragment in refused(post(api, f"{R}/recognize?{query}", photo_of(RED)), 400, 26)


def test_detect_and_verify(api):
    detected = post(api, "/api/v1/detection/detect?face_plugins=landmarks&status=true", TWO).json()
    assert [list(f) for f in detected["result"]] == [["box", "landmarks", "execution_time"]] * 2
    assert list(detected["result"][0]["execution_time"]) == ["detector"]
    assert detected["plugins_versions"] == {"detector": "facecore.MTCNN"}
    refused(post(api, "/api/v1/detection/detect", NOBODY), 400, 28)

    files = {"source_image": upload(photo_of(RED)), "target_image": upload(TWO)}
    verified = api.post("/api/v1/verification/verify?status=true", files, format="multipart").json()
    (entry,) = verified["result"]
    assert list(entry) == ["source_image_face", "face_matches", "plugins_versions"]
    assert [m["similarity"] > 0.5 for m in entry["face_matches"]] == [True, False]
    assert list(entry["face_matches"][0]) == ["box", "execution_time", "similarity"]

    b64 = {k: base64.b64encode(v).decode() for k, v in (("source_image", TWO), ("target_image", TWO))}
    refused(api.post("/api/v1/verification/verify", b64, format="json"), 400, 31)
    assert len(api.post("/api/v1/verification/verify?limit=1", b64, format="json").json()["result"]) == 1
    refused(
        api.post("/api/v1/verification/verify", {"source_image": b64["source_image"]}, format="json"), 400, 5
    )
    missing = api.post("/api/v1/verification/verify", {"source_image": upload(TWO)}, format="multipart")
    assert refused(missing, 400, 34) == "Required part target_image is missing"
    nobody = {"source_image": upload(photo_of(RED)), "target_image": upload(NOBODY)}
    refused(api.post("/api/v1/verification/verify", nobody, format="multipart"), 400, 28)


def test_verify_a_photo_against_one_example(api):
    example = add(api, "alice", photo_of(RED))["image_id"]
    body = post(api, f"{R}/faces/{example}/verify?face_plugins=landmarks", TWO).json()
    assert [(f["subject"], f["similarity"] > 0.5) for f in body["result"]] == [
        ("alice", True),
        ("alice", False),
    ]
    assert list(body["result"][0]) == ["box", "landmarks", "subject", "similarity"]
    refused(post(api, f"{R}/faces/6b135f5b-a365-4522-b1f1-4c9ac2dd0728/verify", TWO), 404, 44)
    refused(post(api, f"{R}/faces/{example}/verify", NOBODY), 400, 28)


def test_keys_paths_and_methods_answer_compreface_errors(api, other_api):
    anonymous = APIClient()
    assert refused(post(anonymous, f"{R}/recognize", photo_of(RED)), 400, 20) == "Missing header: x-api-key"
    wrong = APIClient()
    wrong.credentials(HTTP_X_API_KEY="00000000-0000-0000-0000-000000000000")
    assert "Detection" in refused(post(wrong, "/api/v1/detection/detect", photo_of(RED)), 404, 10)
    refused(api.get(f"{R}/no-such-thing"), 404, 0)
    refused(api.get("/api/v1/detection/detect"), 405, 0)
    refused(api.post(f"{R}/recognize", "x", content_type="text/plain"), 415, 0)
    # One application's examples are not another's.
    example = add(api, "alice", photo_of(RED))["image_id"]
    refused(other_api.delete(f"{R}/faces/{example}"), 404, 44)
    assert other_api.get(f"{R}/subjects").json() == {"subjects": []}


def test_facecore_api_offers_the_same_plugins_and_keeps_its_json_without_them(api):
    plain = api.post("/api/v1/detect", {"image": upload(photo_of(RED))}, format="multipart").json()
    assert list(plain["faces"][0]) == ["box", "probability", "landmarks"]
    with_plugins = api.post(
        "/api/v1/detect", {"image": upload(photo_of(RED)), "face_plugins": "pose,quality"}, format="multipart"
    ).json()["faces"][0]
    assert set(with_plugins["pose"]) == {"yaw", "pitch", "roll"} and "score" in with_plugins["quality"]
    refused_plugin = api.post(
        "/api/v1/detect", {"image": upload(photo_of(RED)), "face_plugins": "age"}, format="multipart"
    )
    assert refused_plugin.status_code == 400 and refused_plugin.json()["code"] == "invalid_request"
    assert "calculator, landmarks, pose, quality" in refused_plugin.json()["message"]

    face = api.post(
        "/api/v1/subjects/alice/faces", {"image": upload(photo_of(RED))}, format="multipart"
    ).json()
    verified = api.post(
        f"/api/v1/faces/{face['face_id']}/verify", {"image": upload(photo_of(RED, 5))}, format="multipart"
    ).json()
    assert verified["example"]["subject"] == "alice" and verified["faces"][0]["verified"] is True

    job = api.post("/api/v1/images", {"image": upload(photo_of(BLUE))}, format="multipart").json()
    status = api.get(f"/api/v1/images/{job['image_id']}").json()
    assert "quality" not in status["faces"][0] and "pose" not in status["faces"][0]
    shown = api.get(f"/api/v1/images/{job['image_id']}", {"include": "quality,pose,embedding"}).json()
    assert {"quality", "pose", "embedding", "model"} <= set(shown["faces"][0])
    bad = api.get(f"/api/v1/images/{job['image_id']}", {"include": "age"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_request"


def test_openapi_schema_documents_the_compatible_endpoints(client):
    paths = client.get("/api/schema", HTTP_ACCEPT="application/json").json()["paths"]
    expected = {
        f"{R}/subjects",
        f"{R}/subjects/{{subject}}",
        f"{R}/faces",
        f"{R}/faces/delete",
        f"{R}/faces/{{image_id}}",
        f"{R}/faces/{{image_id}}/img",
        f"{R}/faces/{{image_id}}/verify",
        f"{R}/recognize",
        "/api/v1/detection/detect",
        "/api/v1/verification/verify",
        "/api/v1/static/{api_key}/images/{image_id}",
    }
    assert expected <= set(paths), sorted(expected - set(paths))
    recognize = paths[f"{R}/recognize"]["post"]
    assert {p["name"] for p in recognize["parameters"]} >= {
        "limit",
        "face_plugins",
        "status",
        "prediction_count",
    }
