"""Uploads through HTTP to a real worker: each input form, idempotency, isolation, delete, refusals."""

from __future__ import annotations

import base64
import io
import threading

import numpy as np
import pytest
from celery.signals import task_prerun
from PIL import Image as PILImage

from images.models import Face, Image

pytestmark = pytest.mark.django_db(transaction=True)

LANDMARKS = {"left_eye", "right_eye", "nose", "mouth_left", "mouth_right"}


def assert_face_in_image(face: dict, width: int, height: int) -> None:
    box = face["box"]
    assert 0 <= box["x_min"] < box["x_max"] <= width
    assert 0 <= box["y_min"] < box["y_max"] <= height
    assert face["probability"] >= 0.9
    assert set(face["landmarks"]) == LANDMARKS
    for x, y in face["landmarks"].values():
        # Landmarks of a face lie inside (or right at the edge of) its own box.
        assert box["x_min"] - 5 <= x <= box["x_max"] + 5
        assert box["y_min"] - 5 <= y <= box["y_max"] + 5


def test_multipart_upload_finds_faces_in_original_pixels(api, two_faces_jpeg, object_store):
    response = api.upload(two_faces_jpeg)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"image_id", "status", "status_url"}
    assert accepted["status"] == "queued"
    assert accepted["status_url"].endswith(f"/api/v1/images/{accepted['image_id']}")

    status = api.wait(accepted["image_id"])
    assert status["status"] == "done", status
    assert status["error"] is None
    width, height = PILImage.open(io.BytesIO(two_faces_jpeg)).size
    assert (status["width"], status["height"]) == (width, height)
    assert len(status["faces"]) == 2
    for face in status["faces"]:
        assert_face_in_image(face, width, height)
        assert "embedding" not in face
    areas = [
        (f["box"]["x_max"] - f["box"]["x_min"]) * (f["box"]["y_max"] - f["box"]["y_min"])
        for f in status["faces"]
    ]
    assert areas == sorted(areas, reverse=True), "largest faces first"
    assert {"detect", "embed", "total"} <= set(status["timings"])

    # The original went to the S3 server under the image id.
    assert object_store.exists(f"images/{accepted['image_id']}/original")
    assert object_store.get(f"images/{accepted['image_id']}/original") == two_faces_jpeg

    with_embeddings = api.get(accepted["image_id"], include="embedding").json()
    assert with_embeddings["model"] == "facenet"
    for face in with_embeddings["faces"]:
        vector = np.asarray(face["embedding"])
        assert vector.shape == (128,)
        assert abs(np.linalg.norm(vector) - 1.0) < 1e-3
        assert face["model"] == "facenet"
    # ...and they are real pgvector values in Postgres.
    stored = Face.objects.filter(image_id=accepted["image_id"]).values_list("embedding", flat=True)
    assert [len(v) for v in stored] == [128, 128]

    annotated = api.annotated(accepted["image_id"])
    assert annotated.status_code == 200
    assert annotated.headers["Content-Type"] == "image/jpeg"
    assert PILImage.open(io.BytesIO(annotated.content)).size == (width, height)

    listed = api.list(status="done").json()
    assert [item["image_id"] for item in listed["results"]] == [accepted["image_id"]]
    assert api.list(status="queued").json()["count"] == 0


def test_base64_upload(api, face_jpeg):
    response = api.upload_json(image_base64="data:image/jpeg;base64," + base64.b64encode(face_jpeg).decode())
    assert response.status_code == 202, response.text
    status = api.wait(response.json()["image_id"])
    assert status["status"] == "done"
    assert len(status["faces"]) == 1
    assert_face_in_image(status["faces"][0], 512, 512)


def test_url_upload_follows_checked_redirects(api, web, face_jpeg):
    web.files["/astronaut.jpg"] = (200, {"Content-Type": "image/jpeg"}, face_jpeg)
    web.files["/moved"] = (302, {"Location": "/astronaut.jpg"}, b"")
    response = api.upload_json(image_url=web.url("/moved"), det_prob_threshold=0.95, limit=1)
    assert response.status_code == 202, response.text
    image_id = response.json()["image_id"]
    status = api.wait(image_id)
    assert status["status"] == "done"
    assert len(status["faces"]) == 1
    assert status["options"]["det_prob_threshold"] == 0.95
    assert Image.objects.get(pk=image_id).size_bytes == len(face_jpeg)


def test_same_request_id_returns_same_image_and_runs_one_job(api, face_jpeg, two_faces_jpeg):
    started: list[str] = []

    def count(sender=None, args=None, **kwargs) -> None:
        if sender.name == "worker.tasks.process_image":
            started.append(args[0])

    task_prerun.connect(count, weak=False)
    try:
        first = api.upload(face_jpeg, request_id="order-17")
        again = api.upload(face_jpeg, request_id="order-17")
        assert first.status_code == 202
        assert again.status_code == 200
        assert again.json()["image_id"] == first.json()["image_id"]

        # Concurrent duplicates are settled by the unique constraint.
        results: list = []
        threads = [
            threading.Thread(target=lambda: results.append(api.upload(face_jpeg, request_id="order-18")))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(r.status_code for r in results) == [200, 200, 200, 202]
        assert len({r.json()["image_id"] for r in results}) == 1
        assert Image.objects.filter(request_id__in=["order-17", "order-18"]).count() == 2

        for image_id in (first.json()["image_id"], results[0].json()["image_id"]):
            assert api.wait(image_id)["status"] == "done"
        # A job queued after all of them has finished, so any duplicate job would have run by now.
        sentinel = api.upload(two_faces_jpeg).json()["image_id"]
        assert api.wait(sentinel)["status"] == "done"
    finally:
        task_prerun.disconnect(count)
    assert started.count(first.json()["image_id"]) == 1
    assert started.count(results[0].json()["image_id"]) == 1


def test_applications_see_only_their_own_images(api, client_factory, face_jpeg):
    other = client_factory("beta")
    image_id = api.upload(face_jpeg).json()["image_id"]
    for response in (other.get(image_id), other.annotated(image_id), other.delete(image_id)):
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "Not found."}
    assert other.list().json()["count"] == 0
    assert api.wait(image_id)["status"] == "done"
    assert api.list().json()["count"] == 1


def test_delete_removes_object_faces_and_embeddings(api, two_faces_jpeg, object_store):
    image_id = api.upload(two_faces_jpeg).json()["image_id"]
    assert api.wait(image_id)["status"] == "done"
    assert Face.objects.filter(image_id=image_id).count() == 2
    key = f"images/{image_id}/original"
    assert object_store.exists(key)

    response = api.delete(image_id)
    assert response.status_code == 200
    assert response.json() == {"image_id": image_id, "deleted_faces": 2, "subjects": []}
    assert not object_store.exists(key)
    assert not Face.objects.filter(image_id=image_id).exists()
    assert not Image.objects.filter(pk=image_id).exists()
    assert api.get(image_id).status_code == 404
