"""The DeepStack-compatible API (fast tier): DeepStack's form fields, shapes and errors over the
fake engine (a colour is a person, tests/fakes.py). The real clients (deepstack-python,
codeproject-ai-api), the real worker and models are in tests/deepstack/."""

from __future__ import annotations

import pytest
from django.test import Client

from recognition.models import Subject
from tests.fakes import BLUE, GREEN, RED, painted, person
from tests.service.helpers import upload

V = "/v1/vision/face"
BOX = ["x_min", "y_min", "x_max", "y_max"]


def photo_of(colour, shade: int = 0, side: int = 80) -> bytes:
    return painted([(60, 50, side, person(colour, shade))])


TWO = painted([(10, 10, 90, RED), (180, 40, 60, BLUE)])
NOBODY = painted([])


def key_of(api) -> str:
    return api._credentials["HTTP_X_API_KEY"]


def call(api, path: str, key: str | None = "header", **fields):
    """POST as DeepStack's clients do: multipart (files as parts), the key as the form field
    ``api_key`` (``key="header"``: facecore's X-API-Key of ``api``; None: no key at all)."""
    data = {name: upload(value) if isinstance(value, bytes) else value for name, value in fields.items()}
    client = Client()
    if key == "header":
        data["api_key"] = key_of(api)
    elif key is not None:
        data["api_key"] = key
    return client.post(path, data)


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True and body["code"] == 200 and isinstance(body["processMs"], int)
    return body


def refused(response, status: int) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["success"] is False and body["code"] == status and set(body) == {"success", "error", "code"}
    return body["error"]


def test_register_recognize_list_delete(api):
    first = ok(call(api, f"{V}/register", userid="Anna", image=photo_of(RED), image1=photo_of(RED, 3)))
    assert first["message"] == "face added"
    assert Subject.objects.get(application=api.application, name="Anna").faces.count() == 2
    again = ok(call(api, f"{V}/register", userid="anna", image=photo_of(RED, 5)))
    assert again["message"] == "face updated"  # DeepStack's word for a userid it knew (any case here)
    ok(call(api, f"{V}/register", userid="Bob", image=photo_of(BLUE)))

    listed = ok(call(api, f"{V}/list"))
    assert (listed["faces"], listed["count"]) == (["Anna", "Bob"], 2)

    seen = ok(
        call(api, f"{V}/recognize", image=painted([(10, 10, 90, person(RED, 2)), (180, 40, 60, GREEN)]))
    )
    assert [p["userid"] for p in seen["predictions"]] == ["Anna", "unknown"]  # largest first
    anna, stranger = seen["predictions"]
    assert 0.9 < anna["confidence"] <= 1 and stranger["confidence"] == 0
    assert all(isinstance(p[k], int) for p in seen["predictions"] for k in BOX)
    assert (
        anna["x_max"] - anna["x_min"] == 90 and seen["count"] == 2 and seen["message"] == "Found 1 known face"
    )
    assert isinstance(seen["inferenceMs"], int)

    # min_confidence is a cut on top of facecore's decision, never a way around it.
    strict = ok(call(api, f"{V}/recognize", image=photo_of(RED, 2), min_confidence="0.99999"))
    assert strict["predictions"][0]["userid"] == "unknown" and strict["message"] == "No known faces"
    lenient = ok(call(api, f"{V}/recognize", image=photo_of(GREEN), min_confidence="0"))
    assert lenient["predictions"][0]["userid"] == "unknown"
    assert ok(call(api, f"{V}/recognize", image=NOBODY))["predictions"] == []

    assert ok(call(api, f"{V}/delete", userid="anna"))["message"] == "3 faces deleted"
    assert ok(call(api, f"{V}/delete", userid="nobody"))["success"] is True  # DeepStack: no error
    assert ok(call(api, f"{V}/list"))["faces"] == ["Bob"]
    assert ok(call(api, f"{V}/recognize", image=photo_of(RED)))["predictions"][0]["userid"] == "unknown"


def test_register_skips_photos_without_one_face_unless_none_is_left(api):
    assert "face" in refused(call(api, f"{V}/register", userid="x", image=NOBODY), 400)
    assert refused(call(api, f"{V}/register", userid="x", image=TWO), 400).startswith("image:")
    assert not Subject.objects.filter(application=api.application).exists()
    assert (
        ok(call(api, f"{V}/register", userid="x", image=TWO, image1=photo_of(RED)))["message"] == "face added"
    )
    assert Subject.objects.get(application=api.application, name="x").faces.count() == 1
    assert "userid" in refused(call(api, f"{V}/register", image=photo_of(RED)), 400)
    assert "userid" in refused(call(api, f"{V}/register", userid="a/b", image=photo_of(RED)), 400)
    assert "image" in refused(call(api, f"{V}/register", userid="y"), 400)
    assert refused(call(api, f"{V}/register", userid="y", image=b"not a photo"), 400).startswith("image:")


def test_detect_and_match(api):
    found = ok(call(api, V, image=TWO))
    assert [p["x_max"] - p["x_min"] for p in found["predictions"]] == [90, 60]
    assert set(found["predictions"][0]) == {"confidence", *BOX} and found["count"] == 2
    assert found["message"] == "Found 2 faces"
    assert ok(call(api, f"{V}/", image=NOBODY))["predictions"] == []  # trailing slash too
    assert ok(call(api, V, image=TWO, min_confidence="1.0"))["predictions"] == []

    same = ok(call(api, f"{V}/match", image1=photo_of(RED), image2=photo_of(RED, 4)))["similarity"]
    other = ok(call(api, f"{V}/match", image1=photo_of(RED), image2=photo_of(BLUE)))["similarity"]
    assert 0 <= other < 0.5 and 0.9 < same <= 1
    largest = ok(call(api, f"{V}/match", image1=photo_of(RED), image2=TWO))["similarity"]
    assert largest > 0.9  # TWO's largest face is RED ...
    smaller = ok(call(api, f"{V}/match", image1=photo_of(BLUE), image2=TWO))["similarity"]
    assert smaller < 0.5  # ... and its smaller BLUE face is not compared
    assert refused(call(api, f"{V}/match", image1=photo_of(RED), image2=NOBODY), 400).startswith("image2:")
    assert "image2" in refused(call(api, f"{V}/match", image1=photo_of(RED)), 400)


@pytest.mark.parametrize("endpoint", ["", "/recognize", "/register", "/match"])
def test_a_request_without_an_image_is_a_json_400(api, endpoint):
    message = refused(call(api, f"{V}{endpoint}", userid="someone"), 400)
    assert "image" in message


def test_bad_values_are_refused(api):
    assert "min_confidence" in refused(call(api, V, image=TWO, min_confidence="high"), 400)
    assert "min_confidence" in refused(call(api, V, image=TWO, min_confidence="2"), 400)
    assert "file part" in refused(call(api, V, image="aGVsbG8="), 400)
    assert "userid" in refused(call(api, f"{V}/delete"), 400)
    key = {"HTTP_X_API_KEY": key_of(api)}
    as_json = Client().post(
        f"{V}/delete", {"userid": "nobody", "min_confidence": 0.5}, "application/json", **key
    )
    assert ok(as_json)["message"] == "0 faces deleted"  # a JSON object body is read too
    garbage = Client().post(V, b"--x\r\nnot a part", content_type="multipart/form-data; boundary=x", **key)
    assert "image" in refused(garbage, 400)
    refused(Client().post(V, b"junk", content_type="multipart/form-data", **key), 400)  # no boundary


def test_keys_form_field_header_wrong_and_missing(api, other_api, settings):
    settings.FACECORE_DEEPSTACK_APPLICATION = ""
    ok(call(api, f"{V}/register", userid="anna", image=photo_of(RED)))
    by_header = Client().post(f"{V}/list", {}, HTTP_X_API_KEY=key_of(api))
    assert ok(by_header)["faces"] == ["anna"]
    assert ok(call(other_api, f"{V}/list"))["faces"] == []  # another application's key
    assert refused(call(api, f"{V}/list", key="fc_wrong"), 401) == "incorrect api key"
    assert "api key required" in refused(call(api, f"{V}/list", key=None), 401)
    assert "api key required" in refused(call(api, f"{V}/list", key=""), 401)  # deepstack-python's default


def test_keyless_calls_act_as_the_keyless_application_only(api, settings):
    settings.FACECORE_DEEPSTACK_APPLICATION = "cameras"
    ok(call(api, f"{V}/register", key=None, userid="visitor", image=photo_of(GREEN)))
    ok(call(api, f"{V}/register", userid="anna", image=photo_of(RED)))
    assert ok(call(api, f"{V}/list", key=None))["faces"] == ["visitor"]
    assert ok(call(api, f"{V}/list", key=""))["faces"] == ["visitor"]
    assert ok(call(api, f"{V}/list"))["faces"] == ["anna"]
    seen = ok(call(api, f"{V}/recognize", key=None, image=photo_of(RED)))["predictions"]
    assert seen[0]["userid"] == "unknown"  # anna is the keyed application's
    assert Subject.objects.get(name="visitor").application.name == "cameras"
    # A wrong key never falls back to the keyless application.
    assert refused(call(api, f"{V}/list", key="fc_wrong"), 401) == "incorrect api key"


def test_paths_methods_and_sizes_answer_json(api, settings):
    assert "No endpoint" in refused(call(api, "/v1/vision/detection", image=TWO), 404)
    assert refused(Client().get(f"{V}/nothing"), 404)
    assert refused(Client().get(f"{V}/list", HTTP_X_API_KEY=key_of(api)), 405)
    settings.FACECORE_ENGINE = settings.FACECORE_ENGINE.__class__(
        **{**settings.FACECORE_ENGINE.__dict__, "max_image_bytes": 1000}
    )
    assert "limit" in refused(call(api, V, image=TWO + b"\0" * 20000), 413)


def test_a_bug_is_a_json_500(api, monkeypatch):
    from recognition import sync

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(sync, "detect", broken)
    assert refused(call(api, V, image=TWO), 500) == "Internal server error."
    from django.test import RequestFactory

    from config.urls import server_error

    last_resort = server_error(RequestFactory().post(f"{V}/recognize"))
    assert last_resort.status_code == 500 and b'"success": false' in last_resort.content
    compreface = server_error(RequestFactory().post("/api/v1/recognition/recognize")).content
    assert b"Something went wrong" in compreface and b'"code": 0' in compreface


def test_openapi_schema_documents_the_deepstack_endpoints(client):
    paths = client.get("/api/schema", HTTP_ACCEPT="application/json").json()["paths"]
    for name in ("", "/register", "/recognize", "/list", "/delete", "/match"):
        assert "post" in paths[f"{V}{name}"], name
    recognized = paths[f"{V}/recognize"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert recognized["$ref"].endswith("DeepStackRecognition")
