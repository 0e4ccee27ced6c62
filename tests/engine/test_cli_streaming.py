"""``python -m facecore detect`` streams: each image's line is out before later images are
detected, and the progress bar goes to stderr only on a terminal. Fake engine (no TensorFlow)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import facecore.cli
import facecore.engine
from facecore.cli import main
from facecore.engine import Engine
from tests.fakes import BLUE, RED, fake_engine, painted


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Engine:
    engine = fake_engine()
    monkeypatch.setattr(facecore.engine, "_engine", engine)
    return engine


@pytest.fixture
def photos(tmp_path: Path) -> list[str]:
    paths = []
    for n in range(9):
        path = tmp_path / f"photo{n}.png"
        squares = [(40, 40, 80, RED)] + ([(180, 60, 70, BLUE)] if n % 3 == 0 else [])
        path.write_bytes(painted(squares))
        paths.append(str(path))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a photo")
    return paths[:5] + [str(broken)] + paths[5:]


def test_json_lines_are_printed_per_image_as_they_are_done(
    fake: Engine, photos: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    lines_before_each_batch: list[int] = []
    detect = fake.detect

    def watched(images, **kwargs):
        lines_before_each_batch.append(out.getvalue().count("\n"))
        return detect(images, **kwargs)

    monkeypatch.setattr(fake, "detect", watched)
    assert main(["detect", *photos, "--json"]) == 1  # one file is not an image

    chunk = facecore.cli.CHUNK
    assert lines_before_each_batch == list(range(0, len(photos), chunk))  # earlier results already out
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["image"] for e in entries] == photos
    assert entries[5]["error"]["code"] == "not_an_image"
    assert [len(e["faces"]) for e in entries if "faces" in e] == [2, 1, 1, 2, 1, 1, 2, 1, 1]


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    fake: Engine, photos: list[str], capsys: pytest.CaptureFixture
) -> None:
    main(["detect", *photos])
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.count("face(s)") == len(photos) - 1


def test_progress_bar_on_a_terminal_goes_to_stderr(
    fake: Engine, photos: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    main(["detect", *photos, "--json"])
    assert f"{len(photos)}/{len(photos)}" in terminal.getvalue()
    assert "img/s" in terminal.getvalue()
    assert all(json.loads(line) for line in capsys.readouterr().out.splitlines())  # stdout stays clean


def test_annotate_writes_one_file_per_good_image(
    fake: Engine, photos: list[str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "boxes.jpg"
    main(["detect", *photos, "--annotate", str(out)])
    written = sorted(p.name for p in tmp_path.glob("boxes-*.jpg"))
    assert len(written) == len(photos) - 1 and "boxes-6.jpg" not in written  # the broken file has none
    assert capsys.readouterr().out.count("annotated ") == len(photos) - 1
