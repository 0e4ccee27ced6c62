"""Double Take's DeepStack detector (jakowenko/double-take, api/src/util/detectors/deepstack.js)
replayed: its train, recognize and remove requests (multipart, ``api_key`` only when configured)
and its reading of the answer, with its default thresholds (match at confidence >= 60%, unknown
below 40%)."""

from __future__ import annotations

MATCH_CONFIDENCE = 60
UNKNOWN_CONFIDENCE = 40


def normalize(data: dict) -> list[dict]:
    if data["success"] is False:
        return []
    out = []
    for obj in data["predictions"]:
        confidence = round(obj["confidence"] * 100, 2)
        out.append(
            {
                "name": obj["userid"].lower() if confidence >= UNKNOWN_CONFIDENCE else "unknown",
                "match": obj["userid"] != "unknown" and confidence >= MATCH_CONFIDENCE,
                "width": obj["x_max"] - obj["x_min"],
            }
        )
    return out


def test_double_take_trains_recognizes_and_removes(vision, people):
    for file in ("obama.jpg", "obama2.jpg"):  # train: one request per photo
        trained = vision.form("face/register", image=people / file, userid="Barack Obama")
        assert trained.status_code == 200 and trained.json()["success"] is True

    seen = normalize(vision.form("face/recognize", image=people / "obama-480p.jpg").json())
    assert [(f["name"], f["match"]) for f in seen] == [("barack obama", True)] and seen[0]["width"] > 0
    group = normalize(vision.form("face/recognize", image=people / "two_people.jpg").json())
    assert sorted((f["name"], f["match"]) for f in group) == [("barack obama", True), ("unknown", False)]
    assert normalize(vision.form("face/recognize", image=people / "blank.jpg").json()) == []

    # Keyless (no KEY configured) reaches the keyless application, which has nobody yet.
    keyless = normalize(vision.form("face/recognize", key="", image=people / "obama-480p.jpg").json())
    assert [(f["name"], f["match"]) for f in keyless] == [("unknown", False)]

    removed = vision.form("face/delete", userid="Barack Obama")
    assert removed.status_code == 200 and removed.json()["success"] is True
    after = normalize(vision.form("face/recognize", image=people / "obama-480p.jpg").json())
    assert [f["match"] for f in after] == [False]
