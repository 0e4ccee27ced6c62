"""CompreFace's own Python SDK (compreface-sdk 0.6.0, unchanged) against facecore: every call it
has, over HTTP, with a real worker and the real models. People: face-recognition-examples
(obama, obama2, obama-480p: Barack Obama; biden: Joe Biden; two_people: both; alex-lacamoire:
someone else)."""

from __future__ import annotations

SDK_CALLS = [
    "recognize",
    "get_face_collection().add",
    "get_face_collection().list",
    "get_face_collection().delete",
    "get_face_collection().delete_all",
    "get_face_collection().verify",
    "get_subjects().add",
    "get_subjects().list",
    "get_subjects().update",
    "get_subjects().delete",
    "get_subjects().delete_all",
    "detect",
    "verify",
]
"""Every call of the SDK's three services (RecognitionService, FaceCollection, Subjects,
DetectionService, VerificationService)."""


def test_every_sdk_call_works_against_facecore(sdk, people):
    called = []

    def rec(call: str, *args, **kwargs):
        called.append(call)
        return sdk("recognition", call, *args, **kwargs)

    # Subjects: the SDK does not encode the name; requests sends the space as %20.
    assert rec("get_subjects().add", "Barack Obama") == {"subject": "Barack Obama"}
    assert rec("get_subjects().list") == {"subjects": ["Barack Obama"]}
    assert rec("get_subjects().update", "Barack Obama", "obama") == {"updated": True}

    # Examples, from file paths (the SDK sends the file's base name).
    obama = rec("get_face_collection().add", people / "obama.jpg", "obama")
    assert set(obama) == {"image_id", "subject"} and obama["subject"] == "obama"
    rec("get_face_collection().add", people / "obama2.jpg", "obama", {"det_prob_threshold": 0.8})
    biden = rec("get_face_collection().add", people / "biden.jpg", "biden")
    listed = rec("get_face_collection().list")
    assert listed["total_elements"] == 3 and listed["page_size"] == 20
    assert {f["subject"] for f in listed["faces"]} == {"obama", "biden"}
    two = rec("get_face_collection().add", people / "two_people.jpg", "both")
    assert two["code"] == 31  # an example needs exactly one face

    # Recognize both people of a group photo, with every option the SDK knows.
    options = {
        "limit": 0,
        "det_prob_threshold": 0.8,
        "prediction_count": 2,
        "face_plugins": "calculator,landmarks",
        "status": True,
    }
    result = rec("recognize", people / "two_people.jpg", options)
    faces = result["result"]
    assert len(faces) == 2
    best = sorted((f["subjects"][0]["subject"], f["subjects"][0]["similarity"] > 0.5) for f in faces)
    assert best == [("biden", True), ("obama", True)]
    for face in faces:
        assert set(face["box"]) == {"probability", "x_max", "y_max", "x_min", "y_min"}
        assert len(face["embedding"]) == 128 and len(face["landmarks"]) == 5
        assert set(face["execution_time"]) == {"detector", "calculator"}
        assert [s["similarity"] < 0.5 for s in face["subjects"][1:]] == [True]
    assert set(result["plugins_versions"]) == {"detector", "calculator"}

    # A stranger is answered below 0.5; a photo without a face with code 28.
    stranger = rec("recognize", people / "alex-lacamoire.jpg")["result"][0]["subjects"]
    assert stranger[0]["similarity"] < 0.5
    assert rec("recognize", people / "blank.jpg")["code"] == 28

    # Verify photos against one stored example.
    same = rec("get_face_collection().verify", people / "obama-480p.jpg", obama["image_id"], {"limit": 1})
    assert same["result"][0]["subject"] == "obama" and same["result"][0]["similarity"] > 0.5
    other = rec("get_face_collection().verify", people / "biden.jpg", obama["image_id"])
    assert other["result"][0]["similarity"] < 0.5

    # The detection and verification services (facecore's key works for all three).
    called.append("detect")
    detected = sdk(
        "detection", "detect", people / "two_people.jpg", {"face_plugins": "landmarks", "status": True}
    )
    assert len(detected["result"]) == 2 and detected["plugins_versions"]["detector"] == "facecore.MTCNN"
    assert all(len(f["landmarks"]) == 5 and "embedding" not in f for f in detected["result"])
    called.append("verify")
    verified = sdk("verification", "verify", people / "obama.jpg", people / "two_people.jpg")
    (entry,) = verified["result"]
    assert "box" in entry["source_image_face"]
    assert sorted(m["similarity"] > 0.5 for m in entry["face_matches"]) == [False, True]

    # Deleting.
    assert rec("get_face_collection().delete", biden["image_id"]) == {
        "image_id": biden["image_id"],
        "subject": "biden",
    }
    assert rec("get_face_collection().delete_all", "obama") == {"deleted": 2}
    assert "obama" in rec("get_subjects().list")["subjects"]
    assert {f["subject"] for f in rec("get_face_collection().list")["faces"]} == set()  # biden's went before
    # CompreFace keeps the subject of the examples deleted: the SDK can delete it afterwards.
    assert rec("get_subjects().delete", "obama") == {"subject": "obama"}
    rec("get_subjects().add", "carl")
    rec("get_subjects().add", "dora")
    assert rec("get_subjects().delete", "carl") == {"subject": "carl"}
    assert rec("get_subjects().delete_all") == {"deleted": 2}  # dora and biden
    assert rec("get_subjects().list") == {"subjects": []}

    assert sorted(set(called)) == sorted(SDK_CALLS)


def test_sdk_global_options_and_errors(sdk, people):
    """The CompreFace object's global options go with recognize; errors come back as JSON."""
    enrolled = sdk("recognition", "get_face_collection().add", people / "obama.jpg", "obama")
    assert "image_id" in enrolled
    options = {"limit": 1, "prediction_count": 1, "status": False, "det_prob_threshold": 0.8}
    answer = sdk("recognition", "recognize", people / "two_people.jpg", options=options)
    assert len(answer["result"]) == 1 and "execution_time" not in answer["result"][0]
    assert sdk("recognition", "get_subjects().delete", "nobody")["code"] == 42
    assert sdk("recognition", "get_face_collection().delete", enrolled["image_id"] + "0")["code"] == 44
    assert sdk("recognition", "get_subjects().add", "obama")["code"] == 43
