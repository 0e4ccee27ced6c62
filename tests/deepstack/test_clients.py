"""DeepStack's face API driven by the clients its users have, unchanged, against facecore with
a real worker and the real models: deepstack-python 0.9 (Home Assistant's deepstack_face,
Viseron) with a key, codeproject-ai-api 0.1 (CodeProject.AI's client, which sends no key)
against the keyless application. People: face-recognition-examples (obama, obama2,
obama-480p: Barack Obama; biden: Joe Biden; two_people: both; alex-lacamoire: someone else)."""

from __future__ import annotations

from tests.deepstack.conftest import KEYLESS

DEEPSTACK_CALLS = {"register", "get_registered_faces", "recognize", "detect"}
"""Every face call of deepstack-python's DeepstackFace (and of codeproject-ai-api's CodeProjectAIFace)."""


def result(answer: dict):
    assert "result" in answer, answer
    return answer["result"]


def test_deepstack_python_with_a_key(vision, people):
    called = set()

    def ds(call: str, *args, **kwargs):
        called.add(call)
        return vision.client("deepstack", call, *args, **kwargs)

    # Register two photos of one person (one call each, as the client sends them).
    assert result(ds("register", "obama", people / "obama.jpg")) == "face added"
    assert result(ds("register", "obama", people / "obama2.jpg")) == "face updated"
    assert result(ds("get_registered_faces")) == ["obama"]

    # Recognize the person, a stranger, and both people of a group photo.
    (seen,) = result(ds("recognize", people / "obama-480p.jpg"))
    assert seen["userid"] == "obama" and 0.9 < seen["confidence"] <= 1
    assert 0 <= seen["x_min"] < seen["x_max"] and 0 <= seen["y_min"] < seen["y_max"]
    assert all(isinstance(seen[k], int) for k in ("x_min", "y_min", "x_max", "y_max"))
    (stranger,) = result(ds("recognize", people / "alex-lacamoire.jpg"))
    assert (stranger["userid"], stranger["confidence"]) == ("unknown", 0)
    group = result(ds("recognize", people / "two_people.jpg"))
    assert sorted(face["userid"] for face in group) == ["obama", "unknown"]  # biden is not registered
    assert result(ds("recognize", people / "blank.jpg")) == []

    # Detect the faces of a group photo (the client's min_confidence 0.45 keeps them all).
    detected = result(ds("detect", people / "two_people.jpg"))
    assert len(detected) == 2 and all(
        set(f) == {"confidence", "x_min", "y_min", "x_max", "y_max"} for f in detected
    )
    assert all(f["confidence"] > 0.9 for f in detected)
    assert result(ds("detect", people / "two_people.jpg", min_confidence=1.0)) == []

    # Match and delete have no client call: sent as Blue Iris / Node-RED send them.
    same = vision.form("face/match", image1=people / "obama.jpg", image2=people / "obama-480p.jpg").json()
    other = vision.form("face/match", image1=people / "obama.jpg", image2=people / "biden.jpg").json()
    assert same["success"] is True and other["success"] is True
    assert same["similarity"] > 0.9 and other["similarity"] < 0.5
    several = vision.form(
        "face/register", userid="joe", image=people / "biden.jpg", image1=people / "obama2.jpg"
    )
    assert several.json()["message"] == "face added"
    assert result(ds("get_registered_faces")) == ["joe", "obama"]
    assert vision.form("face/delete", userid="obama").json()["success"] is True
    assert result(ds("get_registered_faces")) == ["joe"]
    assert result(ds("recognize", people / "obama-480p.jpg"))[0]["userid"] != "obama"

    # No image: the client sends an empty part, the form no part; a JSON 400 either way.
    empty = vision.client("deepstack", "recognize", "")
    assert empty["exception"] == "DeepstackException" and "400" in empty["message"]
    missing = vision.form("face/recognize")
    assert (
        missing.status_code == 400
        and missing.json()["success"] is False
        and "image" in missing.json()["error"]
    )

    # A wrong key: 401, which the client reports as its exception (its list call reads no status).
    wrong = vision.client("deepstack", "detect", people / "obama.jpg", api_key="fc_wrong")
    assert wrong["exception"] == "DeepstackException" and "401" in wrong["message"]
    listed = vision.form("face/list", key="fc_wrong")
    assert listed.status_code == 401 and listed.json() == {
        "success": False,
        "error": "incorrect api key",
        "code": 401,
    }
    assert called == DEEPSTACK_CALLS


def test_codeproject_ai_api_without_a_key_sees_the_keyless_application_only(vision, people, settings):
    def cp(call: str, *args, **kwargs):
        return vision.client("codeprojectai", call, *args, **kwargs)

    assert result(vision.client("deepstack", "register", "obama", people / "obama.jpg")) == "face added"
    assert result(cp("register", "biden", people / "biden.jpg")) == "face added"
    assert result(cp("get_registered_faces")) == ["biden"]
    assert result(vision.client("deepstack", "get_registered_faces")) == ["obama"]
    # deepstack-python without a key (its default api_key="") is keyless too.
    assert result(vision.client("deepstack", "get_registered_faces", api_key="")) == ["biden"]

    group = result(cp("recognize", people / "two_people.jpg"))
    assert sorted(face["userid"] for face in group) == [
        "biden",
        "unknown",
    ]  # obama is the keyed application's
    assert len(result(cp("detect", people / "two_people.jpg"))) == 2
    empty = cp("detect", "")  # no image
    assert empty["exception"] == "CodeProjectAIException" and "400" in empty["message"]

    from tenants.models import Application

    assert Application.objects.get(name=KEYLESS).subjects.get().name == "biden"

    # Keyless calls refused when FACECORE_DEEPSTACK_APPLICATION is unset (the default).
    settings.FACECORE_DEEPSTACK_APPLICATION = ""
    refused = cp("detect", people / "two_people.jpg")
    assert refused["exception"] == "CodeProjectAIException" and "401" in refused["message"]
    assert vision.form("face/list", key="").status_code == 401
