"""Double Take's CompreFace detector (jakowenko/double-take, api/src/util/detectors/compreface.js)
replayed exactly: its train, recognize and untrain requests, and what it reads from the answers."""

from __future__ import annotations

import uuid

import requests


def double_take_recognize(server, data: bytes, face_plugins: str = "undefined") -> requests.Response:
    """recognize(): face_plugins pasted unencoded (``undefined`` when not configured), then
    det_prob_threshold; multipart part ``file`` named ``<event>-<type>-<uuid>.jpg``, image/jpeg."""
    name = f"1700000000.123456-abcdef-snapshot-{uuid.uuid4()}.jpg"
    return requests.post(
        server.url(f"/api/v1/recognition/recognize?face_plugins={face_plugins}&det_prob_threshold=0.8"),
        headers={"x-api-key": server.key},
        files={"file": (name, data, "image/jpeg")},
        timeout=120,
    )


def normalize(body: dict) -> list[dict]:
    """Double Take's reading of the answer: code 28 is "no faces"; otherwise it needs ``result``
    with ``subjects[0].subject/similarity`` and the box."""
    if "result" not in body:
        assert body["code"] == 28, body
        return []
    out = []
    for face in body["result"]:
        best = face["subjects"][0] if face["subjects"] else None
        box = face["box"]
        out.append(
            {
                "name": best["subject"].lower() if best else "unknown",
                "confidence": round(best["similarity"] * 100, 2) if best else 0,
                "box": {
                    "top": box["y_min"],
                    "left": box["x_min"],
                    "width": box["x_max"] - box["x_min"],
                    "height": box["y_max"] - box["y_min"],
                },
            }
        )
    return out


def test_double_take_trains_recognizes_and_untrains(server, people):
    # train: POST /faces?subject=<name> (axios encodes the space as +), the training file as is.
    for file in ("obama.jpg", "obama2.jpg"):
        trained = requests.post(
            server.url("/api/v1/recognition/faces?subject=Barack+Obama"),
            headers={"x-api-key": server.key},
            files={"file": (file, (people / file).read_bytes(), "image/jpeg")},
            timeout=120,
        )
        assert trained.status_code == 201, trained.text
        assert trained.json()["subject"] == "Barack Obama"

    seen = normalize(double_take_recognize(server, (people / "obama-480p.jpg").read_bytes()).json())
    assert [face["name"] for face in seen] == ["barack obama"] and seen[0]["confidence"] > 50
    assert seen[0]["box"]["width"] > 0

    group = normalize(double_take_recognize(server, (people / "two_people.jpg").read_bytes()).json())
    assert len(group) == 2 and sorted(face["confidence"] > 50 for face in group) == [False, True]
    assert normalize(double_take_recognize(server, (people / "blank.jpg").read_bytes()).json()) == []

    # A configured plugin that needs a model is refused with a message Double Take logs.
    refused = double_take_recognize(server, (people / "obama.jpg").read_bytes(), "mask,gender,age")
    assert refused.status_code == 400 and refused.json()["code"] == 26
    assert "available: calculator, landmarks, pose, quality" in refused.json()["message"]

    # untrain: DELETE /faces?subject=<name>, every example of the subject.
    untrained = requests.delete(
        server.url("/api/v1/recognition/faces?subject=Barack+Obama"),
        headers={"x-api-key": server.key},
        timeout=60,
    )
    assert untrained.status_code == 200 and untrained.json() == {"deleted": 2}
    after = normalize(double_take_recognize(server, (people / "obama-480p.jpg").read_bytes()).json())
    assert after[0]["confidence"] == 0  # no examples left: "subjects": []
