"""Admin review: subject and face pages render with thumbnails; assign, remove and merge work."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from images.models import Face, Image
from recognition.models import Cluster, Subject
from tenants.models import Application

pytestmark = pytest.mark.django_db


def photo() -> bytes:
    out = io.BytesIO()
    PILImage.fromarray(np.full((60, 60, 3), 90, np.uint8)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def faces(settings, tmp_path):
    """Three faces of one application, originals in a local store (no S3 needed here)."""
    settings.S3_ENDPOINT = ""
    settings.FACECORE_OBJECTS_DIR = tmp_path / "objects"
    from infra.storage import get_store, original_key

    app = Application.objects.create(name="review")
    rows = []
    for _ in range(3):
        image = Image.objects.create(application=app, status="done", purpose="job")
        image.object_key = original_key(image.id)
        image.save()
        get_store().put(image.object_key, photo(), "image/jpeg")
        rows.append(
            Face.objects.create(
                application=app, image=image, x_min=10, y_min=10, x_max=40, y_max=40, probability=0.99,
                landmarks={}, embedding=[0.0] * 127 + [1.0], model="facenet",
            )
        )  # fmt: skip
    return app, rows


def test_review_pages_render_with_thumbnails(admin_client, faces):
    app, rows = faces
    subject = Subject.objects.create(application=app, name="alice")
    Face.objects.filter(pk=rows[0].pk).update(subject=subject)
    cluster = Cluster.objects.create(application=app)
    Face.objects.filter(pk=rows[1].pk).update(cluster=cluster)
    for url in (
        "/admin/recognition/subject/",
        f"/admin/recognition/subject/{subject.pk}/change/",
        "/admin/images/face/",
        f"/admin/images/face/{rows[0].pk}/change/",
        "/admin/recognition/cluster/",
        f"/admin/recognition/cluster/{cluster.pk}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    assert "data:image/jpeg;base64," in admin_client.get("/admin/recognition/subject/").content.decode()


def test_actions_assign_remove_and_merge(admin_client, faces):
    app, rows = faces
    post = {
        "action": "assign_to_subject",
        "subject": "bob",
        "_selected_action": [str(f.pk) for f in rows[:2]],
    }
    assert admin_client.post("/admin/images/face/", post).status_code == 302
    bob = Subject.objects.get(application=app, name="bob")
    assert set(bob.faces.values_list("pk", flat=True)) == {rows[0].pk, rows[1].pk}

    post = {"action": "remove_from_subject", "subject": "", "_selected_action": [str(rows[1].pk)]}
    admin_client.post("/admin/images/face/", post)
    assert list(bob.faces.values_list("pk", flat=True)) == [rows[0].pk]

    carol = Subject.objects.create(application=app, name="carol")
    Face.objects.filter(pk=rows[2].pk).update(subject=carol)
    post = {"action": "merge_into", "subject": "bob", "_selected_action": [str(carol.pk)]}
    admin_client.post("/admin/recognition/subject/", post)
    assert not Subject.objects.filter(name="carol").exists()
    assert set(bob.faces.values_list("pk", flat=True)) == {rows[0].pk, rows[2].pk}
