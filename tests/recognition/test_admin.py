"""The admin's review pages (fast tier: real PostgreSQL, a local store, synthetic embeddings):
pages render with thumbnails served by a cached view, lists cost a fixed number of queries,
pipeline fields are read only, and every action goes through recognition's services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from images.models import Face, Image
from recognition.models import Cluster, Match, Rejection, Subject
from tests.recognition.review_world import World, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_store(settings, tmp_path):
    settings.S3_ENDPOINT = ""
    settings.FACECORE_OBJECTS_DIR = tmp_path / "objects"


@pytest.fixture
def carl(local_store) -> World:
    """carl in three uploaded images (a cluster), dora in two, alice an enrolled subject."""
    w = world()
    for _ in range(3):
        w.upload("carl")
    for _ in range(2):
        w.upload("dora")
    w.example("alice", "alice")
    return w.refresh()


def pages(w: World) -> list[str]:
    face = w.faces["carl"][0]
    cluster = Cluster.objects.get()
    subject = Subject.objects.get(name="alice")
    return [
        "/admin/images/face/",
        f"/admin/images/face/{face.pk}/change/",
        "/admin/recognition/match/",
        "/admin/recognition/cluster/",
        f"/admin/recognition/cluster/{cluster.pk}/change/",
        "/admin/recognition/subject/",
        f"/admin/recognition/subject/{subject.pk}/change/",
        "/admin/recognition/rejection/",
        "/admin/images/image/",
        f"/admin/images/image/{face.image_id}/change/",
    ]


def test_every_review_page_renders_a_face_with_matches_among_them(admin_client, carl):
    """The Faces list answered 500 as soon as a face had a match (format_html with {:.2f})."""
    assert Match.objects.filter(face=carl.faces["carl"][0]).exists()
    for url in pages(carl):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    faces = admin_client.get("/admin/images/face/").content.decode()
    assert "similarity 0." in faces or "similarity 1." in faces  # best match shown, not "-"
    assert "data:image/jpeg;base64" not in faces  # thumbnails are URLs, lists stay light
    assert faces.count('/thumbnail.jpg"') >= 6


def test_the_face_page_shows_photo_box_cluster_matches_and_buttons(admin_client, carl):
    face = carl.faces["carl"][0]
    page = admin_client.get(f"/admin/images/face/{face.pk}/change/").content.decode()
    assert f"/admin/images/image/{face.image_id}/photo.jpg" in page
    assert 'class="fc-box"' in page and "left:31.250%" in page  # x_min 50 of 160
    assert f"cluster {face.cluster_id}" in page
    for other in carl.faces["carl"][1:]:
        assert f"/admin/images/face/{other.pk}/thumbnail.jpg" in page
    assert page.count("Same person</button>") == 2 and page.count("Different people</button>") == 2
    assert 'name="x_min"' not in page and 'name="probability"' not in page  # pipeline fields read only
    photo = admin_client.get(f"/admin/images/image/{face.image_id}/photo.jpg")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"


def test_thumbnails_are_served_once_and_cached(admin_client, client, carl):
    face = carl.faces["carl"][0]
    url = f"/admin/images/face/{face.pk}/thumbnail.jpg"
    response = admin_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content[:2] == b"\xff\xd8"
    assert response["Cache-Control"].startswith("private, max-age=")
    again = admin_client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert client.get(url).status_code == 302  # not logged in: to the login page


def test_list_pages_cost_the_same_number_of_queries_for_few_and_many_rows(admin_client, local_store):
    w = world()
    for person in ("a", "b"):
        for _ in range(3):
            w.upload(person)
    w.example("a", "alice")
    small = query_counts(admin_client)
    for person in ("c", "d", "e", "f"):
        for _ in range(3):
            w.upload(person)
        w.example(person, f"subject-{person}")
    Rejection.objects.create(application=w.app, face_a=min(w.faces["c"][:2], key=lambda f: str(f.pk)),
                             face_b=max(w.faces["c"][:2], key=lambda f: str(f.pk)))  # fmt: skip
    large = query_counts(admin_client)
    assert large == small, f"queries per page grew with the rows: {small} -> {large}"
    assert max(large.values()) <= 8, large


def query_counts(admin_client) -> dict[str, int]:
    counts = {}
    for url in (
        "/admin/images/face/",
        "/admin/images/face/?assigned=no",
        "/admin/recognition/match/",
        "/admin/recognition/cluster/",
        "/admin/recognition/subject/",
        "/admin/recognition/rejection/",
        "/admin/images/image/",
    ):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200, url
        counts[url] = len(queries)
    return counts


def test_filters_and_search(admin_client, carl):
    carl_face, dora_face = carl.faces["carl"][0], carl.faces["dora"][0]
    alice = Subject.objects.get(name="alice")

    def listed(query: str) -> str:
        return admin_client.get(f"/admin/images/face/?{query}").content.decode()

    assert str(carl_face.pk)[:8] in listed(f"cluster={carl_face.cluster_id}")
    assert str(dora_face.pk)[:8] not in listed(f"cluster={carl_face.cluster_id}")
    assert str(dora_face.pk)[:8] in listed("assigned=waiting")
    assert str(carl_face.pk)[:8] not in listed("assigned=waiting")
    assert str(carl.faces["alice"][0].pk)[:8] in listed(f"subject={alice.pk}")
    assert str(carl_face.pk)[:8] in listed(f"image={carl_face.image_id}")
    assert str(carl_face.pk)[:8] in listed(f"q={carl_face.image_id}")
    assert str(carl.faces["alice"][0].pk)[:8] in listed("q=ali")
    assert admin_client.get("/admin/images/face/?cluster=nonsense").status_code == 200


def test_image_page_is_read_only_and_delete_says_what_it_removed(admin_client, carl):
    example = carl.faces["alice"][0]
    page = admin_client.get(f"/admin/images/image/{example.image_id}/change/").content.decode()
    for field in ("status", "options", "timings", "error_code", "result"):
        assert f'name="{field}"' not in page
    assert (
        admin_client.post(f"/admin/images/image/{example.image_id}/change/", {"status": "failed"}).status_code
        == 403
    )
    assert Image.objects.get(pk=example.image_id).status == "done"
    confirm = admin_client.get(f"/admin/images/image/{example.image_id}/delete/").content.decode()
    assert "example(s) of subject alice" in confirm
    response = admin_client.post(
        f"/admin/images/image/{example.image_id}/delete/", {"post": "yes"}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("examples removed from alice (-1, 0 left)" in m for m in messages), messages


def test_face_page_assigns_a_typed_subject_and_unassigns(admin_client, carl):
    face = carl.faces["dora"][0]
    url = f"/admin/images/face/{face.pk}/change/"
    assert admin_client.post(url, {"subject_name": "dora"}).status_code == 302
    face.refresh_from_db()
    assert face.subject.name == "dora" and face.cluster_id is None
    assert admin_client.post(url, {"subject_name": ""}).status_code == 302
    face.refresh_from_db()
    assert face.subject_id is None
    example = carl.faces["alice"][0]
    refused = admin_client.post(f"/admin/images/face/{example.pk}/change/", {"subject_name": ""})
    assert refused.status_code == 200 and "example photo" in refused.content.decode()
    assert Face.objects.get(pk=example.pk).subject.name == "alice"


def test_match_buttons_confirm_and_reject(admin_client, carl):
    first, second, third = carl.faces["carl"]
    match = Match.objects.get(face=first, other_face=second)
    face_page = f"/admin/images/face/{first.pk}/change/"
    response = admin_client.post(
        f"/admin/recognition/match/{match.pk}/confirm/?next={face_page}", {"subject_name": "carl"}
    )
    assert response.status_code == 302 and response["Location"] == face_page
    assert set(Subject.objects.get(name="carl").faces.values_list("pk", flat=True)) == {first.pk, second.pk}

    other = Match.objects.get(face=first, other_face=third)
    assert admin_client.post(f"/admin/recognition/match/{other.pk}/reject/").status_code == 302
    assert not Match.objects.filter(face__in=[first, third], other_face__in=[first, third]).exists()
    assert Rejection.objects.get().source == "admin:admin"
    assert admin_client.get(f"/admin/recognition/match/{other.pk}/reject/").status_code == 405


def test_match_actions_on_the_list(admin_client, carl):
    dora_a, dora_b = carl.faces["dora"]
    open_pairs = admin_client.get("/admin/recognition/match/").content.decode()
    assert "to review" in open_pairs
    match = Match.objects.filter(face__in=[dora_a, dora_b]).order_by("face_id").first()
    post = {"action": "confirm_selected", "subject": "", "_selected_action": [match.pk]}
    response = admin_client.post("/admin/recognition/match/", post, follow=True)
    assert any("Neither face has a subject" in str(m) for m in response.context["messages"])
    post["subject"] = "dora"
    admin_client.post("/admin/recognition/match/", post)
    assert Subject.objects.get(name="dora").faces.count() == 2
    confirmed = admin_client.get("/admin/recognition/match/?status=confirmed").content.decode()
    assert "fc-confirmed" in confirmed


def test_clusters_are_named_merged_and_split(admin_client, carl):
    cluster = Cluster.objects.get()
    faces = list(cluster.faces.values_list("pk", flat=True))
    post = {"action": "split_into_new_cluster", "_selected_action": [str(faces[0])]}
    admin_client.post("/admin/images/face/", post)
    assert Cluster.objects.count() == 2
    post = {
        "action": "merge_selected",
        "_selected_action": list(Cluster.objects.values_list("pk", flat=True)),
    }
    admin_client.post("/admin/recognition/cluster/", post)
    [merged] = Cluster.objects.all()
    assert merged.faces.count() == 3
    response = admin_client.post(f"/admin/recognition/cluster/{merged.pk}/change/", {"subject_name": "carl"})
    carl_subject = Subject.objects.get(name="carl")
    assert response["Location"] == f"/admin/recognition/subject/{carl_subject.pk}/change/"
    assert carl_subject.faces.count() == 3 and not Cluster.objects.exists()


def test_subjects_merge_and_delete_keeps_uploaded_faces(admin_client, carl):
    carl_faces = carl.faces["carl"]
    Face.objects.filter(pk__in=[f.pk for f in carl_faces]).update(
        subject=Subject.objects.create(application=carl.app, name="carl"), cluster=None
    )
    post = {
        "action": "merge_into",
        "subject": "alice",
        "_selected_action": [Subject.objects.get(name="carl").pk],
    }
    admin_client.post("/admin/recognition/subject/", post)
    alice = Subject.objects.get(name="alice")
    assert alice.faces.count() == 4 and not Subject.objects.filter(name="carl").exists()

    confirm = admin_client.get(f"/admin/recognition/subject/{alice.pk}/delete/").content.decode()
    assert "3 face(s) of uploaded images are kept" in confirm
    admin_client.post(f"/admin/recognition/subject/{alice.pk}/delete/", {"post": "yes"})
    assert not Subject.objects.exists()
    assert Face.objects.filter(pk__in=[f.pk for f in carl_faces], subject=None).count() == 3
    clusters = set(
        Face.objects.filter(pk__in=[f.pk for f in carl_faces]).values_list("cluster_id", flat=True)
    )
    assert len(clusters) == 1 and None not in clusters  # clustered again, together
    assert not Image.objects.filter(purpose="example").exists()  # alice's example photo went


def test_mark_two_faces_different_splits_their_cluster(admin_client, carl):
    first, _, third = carl.faces["carl"]
    post = {"action": "mark_different", "_selected_action": [str(first.pk), str(third.pk)]}
    admin_client.post("/admin/images/face/", post)
    assert Rejection.objects.count() == 1
    first.refresh_from_db()
    third.refresh_from_db()
    assert first.cluster_id != third.cluster_id


def test_the_matches_page_counts_up_to_a_cap(admin_client, carl, monkeypatch):
    from recognition.admin.paging import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    page = admin_client.get("/admin/recognition/match/").content.decode()
    assert "2 or more matches" in page
