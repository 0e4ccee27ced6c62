"""Bulk enrolment with the real worker and models: the labelled photos of
face-recognition-examples (its README) laid out as one folder per person, imported by
``manage.py import_subjects`` and by ``POST /api/v1/imports`` (a zip)."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command

from recognition.models import Subject
from tests.conftest import shared_dir

from .conftest import small_jpeg


@pytest.fixture(scope="module")
def labelled() -> dict[str, list[str]]:
    """file -> the people in it (left to right); skipped without the shared dataset."""
    folder = shared_dir() / "datasets" / "face-recognition-examples"
    if not (folder / "labels.csv").is_file():
        pytest.skip(f"face-recognition-examples not found at {folder} (set FACECORE_SHARED_DIR)")
    with (folder / "labels.csv").open() as f:
        return {row["file"]: row["persons"].split(";") for row in csv.DictReader(f)}


def lay_out(labelled: dict[str, list[str]], root: Path) -> tuple[set[str], set[str]]:
    """Each photo in the folder of the (first) person in it; (single-person files, group files).
    Photos are downscaled to 640 px (quick on the worker; faces stay large)."""
    source = shared_dir() / "datasets" / "face-recognition-examples"
    singles, groups = set(), set()
    for name, persons in labelled.items():
        target = root / persons[0] / (Path(name).stem + ".jpg")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(small_jpeg(source / name, 640))
        (groups if len(persons) > 1 else singles).add(f"{persons[0]}/{target.name}")
    return singles, groups


def refusals(report: str) -> dict[str, str]:
    """``file -> code`` of the report's refused lines (``  person/file.jpg: code: message``)."""
    found = {}
    for line in report.splitlines():
        if line.startswith("  "):
            file, code, _ = line.strip().split(": ", 2)
            found[file] = code
    return found


def test_import_folder_enrols_the_people_and_refuses_group_photos(api, labelled, tmp_path: Path) -> None:
    singles, groups = lay_out(labelled, tmp_path / "people")
    out = io.StringIO()
    call_command("import_subjects", str(tmp_path / "people"), "--application", "app-one", stdout=out)
    report = out.getvalue()
    refused = refusals(report)

    assert {f: refused[f] for f in groups} == {f: "more_than_one_face" for f in groups}, report
    # A single-person photo is enrolled, or refused for one of the example rules' reasons (a
    # background face in obama.jpg makes it "more than one face", as POST .../faces would say).
    assert {refused[f] for f in singles if f in refused} <= {
        "low_quality_face",
        "no_face",
        "more_than_one_face",
    }
    enrolled_files = singles - set(refused)
    assert report.splitlines()[0] == (
        f"enrolled {len(enrolled_files)}, skipped 0 (already enrolled or duplicate), refused {len(refused)}"
    )
    subjects = {s.name: s.faces.count() for s in Subject.objects.filter(application=api.application)}
    per_person = {f.split("/")[0] for f in enrolled_files}
    assert subjects == {p: sum(f.startswith(p + "/") for f in enrolled_files) for p in per_person}
    assert len(enrolled_files) >= 15 and len(subjects) >= 5, report  # 22 single-person photos, 6 people
    enrolled = len(enrolled_files)

    again = io.StringIO()
    call_command("import_subjects", str(tmp_path / "people"), "--application", "app-one", stdout=again)
    assert again.getvalue().splitlines()[0] == (
        f"enrolled 0, skipped {enrolled} (already enrolled or duplicate), refused {len(refused)}"
    )
    assert refusals(again.getvalue()) == refused
    assert {s.name: s.faces.count() for s in Subject.objects.filter(application=api.application)} == subjects


def wait_import(client, url: str, timeout: float = 300) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["status"] == "done":
            return body
        time.sleep(0.2)
    raise TimeoutError(f"import {url} not done after {timeout}s")


def test_import_zip_over_http(api, labelled, tmp_path: Path) -> None:
    few = {f: p for f, p in labelled.items() if p[0] in ("joe_biden", "rose_leslie") or f == "two_people.jpg"}
    singles, groups = lay_out(few, tmp_path / "people")
    archive = tmp_path / "people.zip"
    shutil.make_archive(str(archive.with_suffix("")), "zip", tmp_path, "people")
    with archive.open("rb") as f:
        response = api.post("/api/v1/imports", {"archive": f}, format="multipart")
    assert response.status_code == 202, response.content
    status = wait_import(api, response["Location"])
    assert status["total"] == len(singles) + len(groups)
    by_file = {item["file"].removeprefix("people/"): item for item in status["items"]}
    assert by_file["barack_obama/two_people.jpg"]["code"] == "more_than_one_face"
    assert all(by_file[f]["status"] == "enrolled" for f in singles), status
    assert status["refused_by_code"] == {"more_than_one_face": 1}
    names = set(Subject.objects.filter(application=api.application).values_list("name", flat=True))
    assert names == {"joe_biden", "rose_leslie"}

    with zipfile.ZipFile(archive) as z:
        assert len([n for n in z.namelist() if not n.endswith("/")]) == status["total"]
    with archive.open("rb") as f:
        again = wait_import(api, api.post("/api/v1/imports", {"archive": f}, format="multipart")["Location"])
    assert (again["enrolled"], again["skipped"], again["refused"]) == (0, len(singles), 1)
