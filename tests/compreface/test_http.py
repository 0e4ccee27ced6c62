"""Every endpoint of CompreFace's REST documentation (/work/shared/reference/compreface-rest-api.md
in the shared reference), as its curl examples send them: multipart and base64 JSON, over HTTP,
real worker, real models. Persons of deepface-pairs: A = img1, img6, img10; B = img26, img27;
C = img8;
couple.jpg holds two faces."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image as PILImage

R = "/api/v1/recognition"


def b64(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_subjects_and_examples_as_the_docs_send_them(server, pairs):
    json_headers = server.headers(**{"Content-Type": "application/json"})

    def call(method: str, path: str, **kwargs):
        import requests

        return requests.request(method, server.url(path), headers=json_headers, timeout=120, **kwargs)

    assert call("POST", f"{R}/subjects", json={"subject": "anna"}).status_code == 201
    assert call("GET", f"{R}/subjects/").json() == {"subjects": ["anna"]}
    assert call("PUT", f"{R}/subjects/anna", json={"subject": "a"}).json() == {"updated": True}

    multipart = server.post(f"{R}/faces/?subject=a&det_prob_threshold=0.8", (pairs / "img1.jpg").read_bytes())
    assert multipart.status_code == 201 and multipart.json()["subject"] == "a"
    base64_example = call("POST", f"{R}/faces?subject=a", json={"file": b64(pairs / "img6.jpg")})
    assert base64_example.status_code == 201, base64_example.text
    b = server.post(f"{R}/faces?subject=b", (pairs / "img26.jpg").read_bytes()).json()
    two = server.post(f"{R}/faces?subject=c", (pairs / "couple.jpg").read_bytes())
    assert (two.status_code, two.json()["code"]) == (400, 31)

    page = server.call("GET", f"{R}/faces?page=0&size=2").json()
    assert (page["total_elements"], page["total_pages"], page["page_size"], len(page["faces"])) == (
        3,
        2,
        2,
        2,
    )
    assert server.call("GET", f"{R}/faces?subject=b").json()["faces"] == [b]

    image_id = multipart.json()["image_id"]
    for path in (f"{R}/faces/{image_id}/img", f"/api/v1/static/{server.key}/images/{image_id}"):
        download = server.call("GET", path)
        assert download.status_code == 200
        assert PILImage.open(io.BytesIO(download.content)).size == PILImage.open(pairs / "img1.jpg").size

    assert server.call("DELETE", f"{R}/faces/{image_id}").json() == {"image_id": image_id, "subject": "a"}
    assert server.call("DELETE", f"{R}/faces/{image_id}").json()["code"] == 44
    assert server.call("DELETE", f"{R}/faces?subject=a").json() == {"deleted": 1}
    assert call("GET", f"{R}/subjects").json() == {"subjects": ["a", "b"]}  # the subject stays
    assert call("DELETE", f"{R}/subjects/b").json() == {"subject": "b"}
    call("POST", f"{R}/subjects", json={"subject": "x"})
    assert call("DELETE", f"{R}/subjects").json() == {"deleted": 2}  # a and x


@pytest.mark.parametrize("form", ["multipart", "base64"])
def test_recognize_verify_detect_as_the_docs_send_them(server, pairs, form):
    def send(path: str, **files):
        if form == "multipart":
            parts = {name: (p.name, p.read_bytes()) for name, p in files.items()}
            return server.post(path, files=parts)
        return server.call("POST", path, json={name: b64(p) for name, p in files.items()})

    a = send(f"{R}/faces?subject=a", file=pairs / "img1.jpg").json()
    send(f"{R}/faces?subject=b", file=pairs / "img26.jpg")

    query = "limit=0&prediction_count=2&det_prob_threshold=0.8&face_plugins=landmarks,calculator&status=true"
    recognized = send(f"{R}/recognize?{query}", file=pairs / "img10.jpg").json()
    (face,) = recognized["result"]
    assert [s["subject"] for s in face["subjects"]] == ["a", "b"]
    assert face["subjects"][0]["similarity"] > 0.5 > face["subjects"][1]["similarity"]
    assert face["box"]["probability"] > 0.9 and len(face["embedding"]) == 128
    assert recognized["plugins_versions"]["calculator"] == "facecore.facenet"
    another_b = send(f"{R}/recognize", file=pairs / "img27.jpg").json()["result"][0]["subjects"]
    assert another_b[0]["subject"] == "b" and another_b[0]["similarity"] > 0.5
    stranger = send(f"{R}/recognize", file=pairs / "img8.jpg").json()["result"][0]["subjects"]
    assert len(stranger) == 1 and stranger[0]["similarity"] < 0.5  # person C was never enrolled
    couple = send(f"{R}/recognize?prediction_count=1", file=pairs / "couple.jpg").json()["result"]
    areas = [
        (f["box"]["x_max"] - f["box"]["x_min"]) * (f["box"]["y_max"] - f["box"]["y_min"]) for f in couple
    ]
    assert len(couple) == 2 and areas == sorted(areas, reverse=True)  # largest first

    verify_query = "limit=0&det_prob_threshold=0.8&face_plugins=landmarks&status=true"
    against = send(f"{R}/faces/{a['image_id']}/verify?{verify_query}", file=pairs / "img6.jpg").json()
    assert against["result"][0]["similarity"] > 0.5 and against["result"][0]["subject"] == "a"
    assert len(against["result"][0]["landmarks"]) == 5 and "plugins_versions" in against

    detected = send("/api/v1/detection/detect?limit=1&status=true", file=pairs / "couple.jpg").json()
    assert len(detected["result"]) == 1 and set(detected["result"][0]["execution_time"]) == {"detector"}
    assert len(send("/api/v1/detection/detect", file=pairs / "couple.jpg").json()["result"]) == 2

    verification = send(
        f"/api/v1/verification/verify?{verify_query}",
        source_image=pairs / "img1.jpg",
        target_image=pairs / "img6.jpg",
    ).json()
    (entry,) = verification["result"]
    assert entry["face_matches"][0]["similarity"] > 0.5 and "plugins_versions" in entry
    different = send(
        "/api/v1/verification/verify", source_image=pairs / "img1.jpg", target_image=pairs / "img26.jpg"
    ).json()
    assert different["result"][0]["face_matches"][0]["similarity"] < 0.5


def test_no_face_and_key_errors_without_shared_photos(server, face_jpeg, astronaut):
    """The packaged astronaut: no shared data needed."""
    import numpy as np
    import requests

    from tests.conftest import jpeg

    blank = jpeg(np.full((240, 320, 3), 128, np.uint8))
    nobody = server.post(f"{R}/recognize", blank)
    assert (nobody.status_code, nobody.json()) == (
        400,
        {"message": "No face is found in the given image", "code": 28},
    )
    assert server.post("/api/v1/detection/detect", blank).json()["code"] == 28
    assert server.post(f"{R}/faces?subject=astro", face_jpeg).status_code == 201
    for header in ("x-api-key", "X-API-Key", "X-API-KEY"):
        answer = requests.post(
            server.url(f"{R}/recognize?face_plugins=pose"),
            headers={header: server.key},
            files={"file": ("a.jpg", face_jpeg)},
            timeout=120,
        ).json()
        assert answer["result"][0]["subjects"][0]["subject"] == "astro"
        assert abs(answer["result"][0]["pose"]["yaw"]) < 30
    missing = requests.post(server.url(f"{R}/recognize"), files={"file": ("a.jpg", face_jpeg)}, timeout=60)
    assert (missing.status_code, missing.json()["code"]) == (400, 20)
