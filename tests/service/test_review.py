"""Review through the REST API and the integrity rules (fast tier: the whole service with the
fake engine, where a colour is a person; tests/fakes.py).

* deleting a subject keeps the faces of uploaded images (unassigned, clustered again) and
  deletes only the example photos uploaded for it;
* deleting an image says what it removed (faces, examples of subjects);
* confirmed matches and assignments make examples; rejected matches are stored and respected.
"""

from __future__ import annotations

from images.models import Face, Image
from recognition.models import Match, Rejection
from tests.fakes import BLUE, GREEN, RED, painted, person
from tests.requests import enrol, recognize, submit


def photo_of(colour, shade: int = 0) -> bytes:
    return painted([(60, 50, 80, person(colour, shade))])


def three_photos_of_gina(api) -> tuple[list[str], list[str], dict]:
    """Three uploaded photos of one unknown person: matched both ways and one cluster."""
    images = [submit(api, photo_of(GREEN, shade))["image_id"] for shade in (-10, 0, 10)]
    faces = [str(Face.objects.get(image_id=i).pk) for i in images]
    [cluster] = api.get("/api/v1/clusters").json()["clusters"]
    return images, faces, cluster


def match_between(api, face_id: str, other_id: str) -> int:
    body = api.get(f"/api/v1/faces/{face_id}").json()
    return next(m["match_id"] for m in body["matches"] if m["face_id"] == other_id)


def test_deleting_a_subject_keeps_the_faces_of_uploaded_photos(api):
    images, faces, cluster = three_photos_of_gina(api)
    api.post(f"/api/v1/clusters/{cluster['cluster_id']}/assign", {"subject": "gina"}, format="json")
    example = enrol(api, "gina", photo_of(GREEN, 5))

    deleted = api.delete("/api/v1/subjects/gina")
    assert deleted.status_code == 200
    assert deleted.json() == {"subject": "gina", "deleted_faces": 1, "unassigned_faces": 3}
    for image_id in images:  # the uploaded photos keep their faces
        status = api.get(f"/api/v1/images/{image_id}").json()
        assert status["status"] == "done" and status["face_count"] == 1
    assert not Face.objects.filter(pk=example["face_id"]).exists()
    assert not Image.objects.filter(purpose="example").exists()
    [again] = api.get("/api/v1/clusters").json()["clusters"]  # unnamed again, clustered again
    assert sorted(again["face_ids"]) == sorted(faces)
    assert api.get(f"/api/v1/faces/{faces[0]}").json()["subject"] is None


def test_deleting_an_image_says_which_subjects_lost_examples(api):
    images, faces, cluster = three_photos_of_gina(api)
    api.post(f"/api/v1/clusters/{cluster['cluster_id']}/assign", {"subject": "gina"}, format="json")
    deleted = api.delete(f"/api/v1/images/{images[0]}")
    assert deleted.status_code == 200
    assert deleted.json() == {
        "image_id": images[0],
        "deleted_faces": 1,
        "subjects": [{"subject": "gina", "removed_faces": 1, "remaining_faces": 2}],
    }
    assert api.get("/api/v1/subjects").json()["subjects"] == [{"subject": "gina", "face_count": 2}]
    plain = submit(api, photo_of(BLUE))["image_id"]
    assert api.delete(f"/api/v1/images/{plain}").json()["subjects"] == []


def test_a_confirmed_match_makes_both_faces_examples(api):
    _, faces, _ = three_photos_of_gina(api)
    match_id = match_between(api, faces[0], faces[1])
    refused = api.post(f"/api/v1/matches/{match_id}/confirm", {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "subject_required")

    confirmed = api.post(f"/api/v1/matches/{match_id}/confirm", {"subject": "gina"}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    body = confirmed.json()
    assert body["subject"] == "gina" and sorted(body["face_ids"]) == sorted(faces[:2])
    assert body["match_id"] == match_id and body["cleared_rejections"] == 0
    # The third face's match with one of gina's examples: confirmed without a name.
    third = api.post(f"/api/v1/matches/{match_between(api, faces[2], faces[0])}/confirm", {}, format="json")
    assert third.json()["subject"] == "gina"
    assert api.get("/api/v1/subjects").json()["subjects"] == [{"subject": "gina", "face_count": 3}]
    assert recognize(api, photo_of(GREEN, 3))["faces"][0]["subjects"][0]["subject"] == "gina"
    listed = api.get("/api/v1/matches", {"status": "confirmed"}).json()
    assert listed["total_elements"] == 3 and all(m["confirmed"] for m in listed["matches"])
    assert api.get("/api/v1/matches").json()["total_elements"] == 0  # nothing left to review


def test_a_rejected_match_is_never_matched_clustered_or_proposed_again(api):
    _, faces, cluster = three_photos_of_gina(api)
    first, _, third = faces
    rejected = api.post(f"/api/v1/matches/{match_between(api, first, third)}/reject")
    assert rejected.status_code == 200, rejected.content
    body = rejected.json()
    assert sorted(body["face_ids"]) == sorted([first, third])
    assert body["moved_face_id"] == third  # the later face left the shared cluster ...
    assert body["moved_to_cluster"] is None  # ... and no cluster holding `first` takes it back
    assert Rejection.objects.count() == 1
    assert not Match.objects.filter(face_id=first, other_face_id=third).exists()

    detail = api.get(f"/api/v1/faces/{third}").json()
    assert detail["rejected_face_ids"] == [first] and detail["cluster_id"] is None
    assert first not in {m["face_id"] for m in detail["matches"]}
    # Name the first face: its subject is never proposed for the third ...
    api.post(f"/api/v1/faces/{first}/assign", {"subject": "gina"}, format="json")
    assert "gina" not in {s["subject"] for s in api.get(f"/api/v1/faces/{third}").json()["suggestions"]}
    assert api.get(f"/api/v1/faces/{faces[1]}").json()["suggestions"][0]["subject"] == "gina"
    # ... and unassigning it again never clusters the pair together.
    api.post(f"/api/v1/faces/{first}/unassign")
    for face_id in faces:
        api.post(f"/api/v1/faces/{face_id}/unassign")
    clusters = [set(c["face_ids"]) for c in api.get("/api/v1/clusters").json()["clusters"]]
    assert not any({first, third} <= c for c in clusters)


def test_assigning_over_a_rejection_clears_it_and_says_so(api):
    _, faces, _ = three_photos_of_gina(api)
    api.post(f"/api/v1/matches/{match_between(api, faces[0], faces[2])}/reject")
    api.post(f"/api/v1/faces/{faces[0]}/assign", {"subject": "gina"}, format="json")
    answer = api.post(f"/api/v1/faces/{faces[2]}/assign", {"subject": "gina"}, format="json").json()
    assert answer == {"face_id": faces[2], "subject": "gina", "cluster_id": None, "cleared_rejections": 1}
    assert not Rejection.objects.exists()


def test_clusters_merge_and_split(api):
    _, gina, cluster = three_photos_of_gina(api)
    split = api.post(
        f"/api/v1/clusters/{cluster['cluster_id']}/split", {"face_ids": [gina[2]]}, format="json"
    )
    assert split.status_code == 200, split.content
    body = split.json()
    assert body["new_cluster"]["face_ids"] == [gina[2]] and body["cluster"]["face_count"] == 2
    new_id = body["new_cluster"]["cluster_id"]
    merged = api.post(
        f"/api/v1/clusters/{cluster['cluster_id']}/merge", {"clusters": [new_id]}, format="json"
    )
    assert merged.status_code == 200 and sorted(merged.json()["cluster"]["face_ids"]) == sorted(gina)
    assert len(api.get("/api/v1/clusters").json()["clusters"]) == 1
    gone = api.post(f"/api/v1/clusters/{new_id}/merge", {"clusters": [cluster["cluster_id"]]}, format="json")
    assert (gone.status_code, gone.json()["code"]) == (404, "cluster_not_found")


def test_review_refusals_have_stable_codes_and_change_nothing(api, other_api):
    _, gina, cluster = three_photos_of_gina(api)
    alice = enrol(api, "alice", photo_of(RED))
    bob = enrol(api, "bob", photo_of(RED, 8))  # the same person, enrolled under two names
    alice_bob = match_between_examples(alice["face_id"], bob["face_id"])

    def code(response) -> tuple[int, str]:
        return response.status_code, response.json()["code"]

    cid = cluster["cluster_id"]
    assert code(api.post("/api/v1/matches/999999/confirm", {}, format="json")) == (404, "match_not_found")
    assert code(other_api.post(f"/api/v1/matches/{match_between(api, gina[0], gina[1])}/reject")) == (
        404,
        "match_not_found",
    )
    assert code(api.post(f"/api/v1/faces/{alice['face_id']}/unassign")) == (409, "example_face")
    assert code(api.post(f"/api/v1/faces/{gina[0]}/assign", {"subject": "a/b"}, format="json")) == (
        400,
        "invalid_subject",
    )
    assert code(api.post(f"/api/v1/clusters/{cid}/split", {"face_ids": gina}, format="json")) == (
        400,
        "invalid_request",
    )
    assert code(
        api.post(f"/api/v1/clusters/{cid}/split", {"face_ids": [alice["face_id"]]}, format="json")
    ) == (404, "face_not_found")
    assert code(api.post(f"/api/v1/clusters/{cid}/merge", {"clusters": "7"}, format="json")) == (
        400,
        "invalid_request",
    )
    assert code(api.get("/api/v1/matches", {"status": "maybe"})) == (400, "invalid_request")
    assert code(api.post("/api/v1/faces/not-a-uuid/assign", {"subject": "x"}, format="json")) == (
        404,
        "face_not_found",
    )
    if alice_bob is not None:
        assert code(api.post(f"/api/v1/matches/{alice_bob}/confirm", {}, format="json")) == (
            409,
            "subjects_differ",
        )
    Face.objects.filter(pk=gina[1]).update(subject=Face.objects.get(pk=alice["face_id"]).subject)
    Face.objects.filter(pk=gina[0]).update(subject=Face.objects.get(pk=alice["face_id"]).subject)
    same = api.post(f"/api/v1/matches/{match_between(api, gina[0], gina[1])}/reject")
    assert code(same) == (409, "same_subject")
    assert not Rejection.objects.exists()
    assert Face.objects.get(pk=alice["face_id"]).subject.name == "alice"


def match_between_examples(a: str, b: str) -> int:
    """Examples are not matched by the pipeline; make the row a client could be shown."""
    face_a, face_b = Face.objects.get(pk=a), Face.objects.get(pk=b)
    match = Match.objects.create(
        application_id=face_a.application_id, face=face_a, other_face=face_b, distance=0.2, similarity=0.99
    )
    return match.pk


def test_crops_are_kept_when_originals_are_not(api, settings):
    """With FACECORE_KEEP_ORIGINALS=false the worker stores each face's crop with the preview, so
    the review pages' thumbnails (and GET /faces/{id}/img) still work."""
    settings.FACECORE_KEEP_ORIGINALS = False
    status = submit(api, photo_of(BLUE))
    assert status["original_deleted"] is True
    crop = api.get(f"/api/v1/faces/{status['faces'][0]['face_id']}/img")
    assert crop.status_code == 200 and crop["Content-Type"] == "image/jpeg"


def test_long_match_lists_are_counted_up_to_a_cap(api, monkeypatch):
    import recognition.queries

    three_photos_of_gina(api)
    assert api.get("/api/v1/matches").json()["total_is_exact"] is True
    monkeypatch.setattr(recognition.queries, "COUNT_CAP", 2)
    page = api.get("/api/v1/matches", {"size": 1, "page": 2}).json()
    assert (page["total_elements"], page["total_is_exact"], len(page["matches"])) == (2, False, 1)
