"""``python -m facecore``: output shapes and exit codes (a contract other tools use).

One real subprocess run covers the entry point; the rest run ``main()`` in-process on the
session's warm engine, because each new process spends seconds importing TensorFlow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import facecore.engine
from facecore.cli import annotate_paths, main
from facecore.engine import Engine

from .conftest import REPO
from .images import encode


def json_lines(text: str) -> list[dict]:
    """``detect --json`` output: one JSON object per line, one line per image."""
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def files(tmp_path: Path, astronaut_jpeg: bytes) -> dict[str, Path]:
    paths = {
        "face": tmp_path / "astronaut.jpg",
        "garbage": tmp_path / "notes.jpg",
        "blank": tmp_path / "blank.png",
    }
    paths["face"].write_bytes(astronaut_jpeg)
    paths["garbage"].write_bytes(b"this is not a photo")
    paths["blank"].write_bytes(encode(np.full((120, 160, 3), 100, np.uint8), "PNG"))
    return paths


@pytest.fixture
def warm_engine(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """Make the CLI's get_engine() return the session engine instead of loading models again."""
    monkeypatch.setattr(facecore.engine, "_engine", engine)
    return engine


def test_detect_subprocess_json_and_exit_code(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "annotated.jpg"
    proc = subprocess.run(
        [sys.executable, "-m", "facecore", "detect", str(files["face"]), str(files["garbage"]), "--json"]
        + ["--annotate", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stderr  # one image failed
    entries = json_lines(proc.stdout)
    assert [e["image"] for e in entries] == [str(files["face"]), str(files["garbage"])]
    good, bad = entries
    assert (good["width"], good["height"]) == (512, 512)
    assert len(good["faces"]) == 1
    face = good["faces"][0]
    assert set(face) == {"box", "probability", "landmarks"}
    assert set(face["box"]) == {"x_min", "y_min", "x_max", "y_max"}
    assert 175 <= face["box"]["x_min"] < face["box"]["x_max"] <= 275
    assert bad == {
        "image": str(files["garbage"]),
        "error": {"code": "not_an_image", "message": bad["error"]["message"]},
    }
    assert (tmp_path / "annotated-1.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert not (tmp_path / "annotated-2.jpg").exists()


def test_detect_all_good_exits_zero_with_options(
    warm_engine: Engine, files: dict[str, Path], capsys: pytest.CaptureFixture
) -> None:
    code = main(["detect", str(files["face"]), str(files["blank"]), "--json", "--limit", "1"])
    assert code == 0
    entries = json_lines(capsys.readouterr().out)
    assert [len(e["faces"]) for e in entries] == [1, 0]
    assert main(["detect", str(files["face"]), "--json", "--det-prob-threshold", "1.01"]) == 0
    assert json_lines(capsys.readouterr().out)[0]["faces"] == []


def test_detect_human_output_and_single_annotate_path(
    warm_engine: Engine, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "one.jpg"
    assert main(["detect", str(files["face"]), "--annotate", str(out)]) == 0
    text = capsys.readouterr().out
    assert "512x512, 1 face(s)" in text
    assert "face 1: box (" in text and "left_eye=(" in text
    assert out.read_bytes()[:2] == b"\xff\xd8"


def test_missing_file_is_an_error_entry(warm_engine: Engine, tmp_path: Path, capsys) -> None:
    assert main(["detect", str(tmp_path / "nope.jpg"), "--json"]) == 1
    [entry] = json_lines(capsys.readouterr().out)
    assert entry["error"]["code"] == "unreadable_file"


def test_compare_json(warm_engine: Engine, deepface_pairs: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = deepface_pairs / "img38.jpg", deepface_pairs / "img39.jpg"
    code = main(["compare", str(a), str(b), "--json"])
    out = json.loads(capsys.readouterr().out)
    if code == 1 and out.get("error", {}).get("code") == "model_unavailable":
        pytest.skip("default model weights not fetched")
    assert code == 0
    assert set(out) >= {"distance", "similarity", "verified", "threshold", "model"}
    assert out["verified"] is True and out["distance"] <= out["threshold"]


def test_compare_without_face_fails_with_no_face(
    warm_engine: Engine, files: dict[str, Path], capsys: pytest.CaptureFixture
) -> None:
    code = main(["compare", str(files["face"]), str(files["blank"]), "--json"])
    out = json.loads(capsys.readouterr().out)
    if out.get("error", {}).get("code") == "model_unavailable":
        pytest.skip("default model weights not fetched")
    assert code == 1
    assert out["error"]["code"] == "no_face"


def test_models_list_json(capsys: pytest.CaptureFixture) -> None:
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in rows]
    assert "facenet" in names
    for row in rows:
        assert isinstance(row["weights_present"], bool)
        assert row["dimension"] in (128, 512)
        assert 0 < row["threshold"] < 2


def test_models_fetch_packaged_model_and_unknown_name(capsys: pytest.CaptureFixture) -> None:
    assert main(["models", "fetch", "dlib"]) == 0  # weights ship in face_recognition_models: no download
    assert "dlib: /" in capsys.readouterr().out
    assert main(["models", "fetch", "no-such-model"]) == 1
    assert "no-such-model: failed" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["detect"], ["compare", "a.jpg"], ["compare", "a", "b", "--model", "nope"]])
def test_bad_command_line_exits_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_annotate_paths() -> None:
    assert annotate_paths(Path("out.jpg"), 1) == [Path("out.jpg")]
    assert annotate_paths(Path("d/out.jpg"), 3) == [
        Path("d/out-1.jpg"),
        Path("d/out-2.jpg"),
        Path("d/out-3.jpg"),
    ]
