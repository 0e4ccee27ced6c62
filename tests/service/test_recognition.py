"""Recognition (fast tier): examples, recognize, verify, detect, matches and clusters, with the
fake engine's people (a colour is a person; see tests/fakes.py)."""

from __future__ import annotations

from images.models import Face, Image
from recognition.models import Match, Subject
from tests.fakes import BLUE, GREEN, RED, painted, person
from tests.requests import enrol, recognize, submit, upload


def photo_of(colour, shade: int = 0, side: int = 80) -> bytes:
    return painted([(60, 50, side, person(colour, shade))])


def test_enrolled_people_are_recognized_and_strangers_are_not(api):
    enrol(api, "alice", photo_of(RED, 10))
    enrol(api, "bob", photo_of(BLUE))
    assert api.get("/api/v1/subjects").json()["subjects"] == [
        {"subject": "alice", "face_count": 1},
        {"subject": "bob", "face_count": 1},
    ]
    result = recognize(api, photo_of(RED, -15), prediction_count=2)
    predictions = result["faces"][0]["subjects"]
    assert [p["subject"] for p in predictions] == ["alice", "bob"]
    assert predictions[0]["similarity"] > 0.5 > predictions[1]["similarity"]
    stranger = recognize(api, photo_of(GREEN))["faces"][0]["subjects"]
    assert stranger[0]["similarity"] < 0.5
    assert not Image.objects.filter(purpose="probe").exists()


def test_an_example_needs_exactly_one_face(api):
    none = api.post("/api/v1/subjects/alice/faces", {"image": upload(painted([]))}, format="multipart")
    assert (none.status_code, none.json()["code"]) == (400, "no_face")
    two = painted([(10, 10, 60, RED), (150, 10, 60, BLUE)])
    response = api.post("/api/v1/subjects/alice/faces", {"image": upload(two)}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (400, "more_than_one_face")
    assert not Subject.objects.exists() and not Face.objects.exists() and not Image.objects.exists()


def test_verify_and_detect(api):
    same = api.post(
        "/api/v1/verify",
        {"source_image": upload(photo_of(RED)), "target_image": upload(photo_of(RED, 12))},
        format="multipart",
    ).json()
    assert same["faces"][0]["verified"] is True and same["model"] == "facenet"
    different = api.post(
        "/api/v1/verify",
        {"source_image": upload(photo_of(RED)), "target_image": upload(photo_of(BLUE))},
        format="multipart",
    ).json()
    assert different["faces"][0]["verified"] is False
    detected = api.post(
        "/api/v1/detect",
        {"image": upload(painted([(10, 10, 60, RED), (150, 10, 60, BLUE)]))},
        format="multipart",
    ).json()
    assert detected["face_count"] == 2 and set(detected["faces"][0]) == {"box", "probability", "landmarks"}
    assert not Image.objects.exists()


def test_unknown_faces_are_matched_and_clustered_then_named(api):
    jobs = [submit(api, photo_of(GREEN, shade))["image_id"] for shade in (-10, 0, 10)]
    stranger = submit(api, photo_of(BLUE))["image_id"]
    matches = api.get(f"/api/v1/images/{jobs[0]}/matches").json()
    assert {m["image_id"] for m in matches["faces"][0]["matches"]} == {jobs[1], jobs[2]}
    assert not Match.objects.filter(face__image_id=stranger).exists()

    [cluster] = api.get("/api/v1/clusters").json()["clusters"]
    assert cluster["face_count"] == 3
    assigned = api.post(
        f"/api/v1/clusters/{cluster['cluster_id']}/assign", {"subject": "gina"}, format="json"
    )
    assert assigned.json()["subject"] == "gina" and len(assigned.json()["face_ids"]) == 3
    assert recognize(api, photo_of(GREEN, 5))["faces"][0]["subjects"][0]["subject"] == "gina"


def test_recognize_as_a_job_option(api):
    enrol(api, "alice", photo_of(RED))
    status = submit(api, photo_of(RED, 8), recognize="true")
    assert status["recognition"]["faces"][0]["subjects"][0]["subject"] == "alice"
    assert status["recognition"]["faces"][0]["face_id"] == status["faces"][0]["face_id"]


def test_a_stranger_is_answered_unknown_with_the_candidates_listed(api):
    enrol(api, "alice", photo_of(RED))
    [face] = recognize(api, photo_of(GREEN), prediction_count=3)["faces"]
    assert face["subject"] is None and face["unknown"] is True and face["verdict"] == "no_match"
    assert [p["subject"] for p in face["subjects"]] == ["alice"]
    assert face["subjects"][0]["verdict"] == "no_match"
    [known] = recognize(api, photo_of(RED, 10))["faces"]
    assert (known["subject"], known["unknown"], known["verdict"]) == ("alice", False, "match")


def test_a_background_face_too_poor_to_match_does_not_block_an_example(api):
    """A portrait with a tiny face far behind (or a false detection) gives its one usable face;
    the background face is not kept as part of the example."""
    portrait = painted([(60, 50, 80, person(RED)), (200, 150, 24, BLUE)])
    response = api.post("/api/v1/subjects/alice/faces", {"image": upload(portrait)}, format="multipart")
    assert response.status_code == 201, response.content
    [image] = Image.objects.filter(purpose="example")
    assert [face.subject.name for face in image.faces.all()] == ["alice"]
    assert recognize(api, photo_of(RED, 5))["faces"][0]["subject"] == "alice"


def test_a_face_too_small_to_tell_is_uncertain_not_matched(api):
    enrol(api, "alice", photo_of(RED))
    [face] = recognize(api, painted([(60, 50, 30, person(RED, 5))]))["faces"]
    assert face["subject"] is None and face["unknown"] is True
    assert (face["verdict"], face["reason"]) == ("uncertain", "low_quality")


def test_a_30_px_example_is_refused_unless_forced(api):
    tiny = painted([(60, 50, 30, RED)])
    response = api.post("/api/v1/subjects/alice/faces", {"image": upload(tiny)}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (400, "low_quality_face")
    assert "small_face" in response.json()["details"]["reasons"]
    assert not Subject.objects.exists() and not Image.objects.exists()
    forced = api.post(
        "/api/v1/subjects/alice/faces", {"image": upload(tiny), "force": "true"}, format="multipart"
    )
    assert forced.status_code == 201, forced.content
    assert forced.json()["quality"]["score"] < 0.05


def test_verify_reports_the_verdict(api):
    body = api.post(
        "/api/v1/verify",
        {"source_image": upload(photo_of(RED)), "target_image": upload(painted([(60, 50, 30, RED)]))},
        format="multipart",
    ).json()
    assert body["faces"][0]["verdict"] == "uncertain" and body["faces"][0]["verified"] is False
