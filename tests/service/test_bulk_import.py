"""Bulk enrolment (docs/recognition.md "Bulk import"): ``manage.py import_subjects DIR`` and
``POST /api/v1/imports``, on the fast tier (eager tasks, fake engine: a coloured square is a face).
The same runs with the real worker and models are in tests/recognition/test_bulk_import.py."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command

from images.models import Image, ImagePurpose
from recognition.models import ImportItem, Subject
from tests.fakes import BLUE, GREEN, RED, painted, person
from tests.service.helpers import upload


def photo(colour, shade: int = 0) -> bytes:
    return painted([(60, 50, 110, person(colour, shade))])


GROUP = painted([(20, 40, 100, RED), (180, 40, 100, BLUE)])
EMPTY = painted([])
TINY = painted([(60, 50, 30, GREEN)])


@pytest.fixture
def people(tmp_path: Path) -> Path:
    """alice: 2 photos; bob: 1 photo and a group photo; carol: a blank, a tiny face and a note."""
    root = tmp_path / "people"
    files = {
        "alice/a1.png": photo(RED),
        "alice/a2.png": photo(RED, 10),
        "bob/b1.png": photo(BLUE),
        "bob/party.png": GROUP,
        "carol/wall.png": EMPTY,
        "carol/tiny.png": TINY,
        "carol/notes.jpg": b"call carol back",
        "carol/.DS_Store": b"\0\0",
        "stray.png": photo(GREEN),
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def run(root: Path, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_subjects", str(root), "--application", "alpha", *args, stdout=out, stderr=err)
    assert "it/s" not in err.getvalue() and "photo/s" not in err.getvalue()  # no bar: not a terminal
    return out.getvalue()


def examples() -> dict[str, int]:
    return {s.name: s.faces.count() for s in Subject.objects.all()}


def test_the_command_enrols_refuses_with_reasons_and_reports(api, people: Path) -> None:
    report = run(people)
    assert examples() == {"alice": 2, "bob": 1}
    assert report.splitlines()[0] == "enrolled 3, skipped 0 (already enrolled or duplicate), refused 5"
    for line in (
        "refused more_than_one_face: 1",
        "refused no_face: 1",
        "refused low_quality_face: 1",
        "refused not_an_image: 1",
        "refused invalid_subject: 1",
        "  bob/party.png: more_than_one_face: 2 faces found",
        "  carol/tiny.png: low_quality_face: The face is too poor",
        "  stray.png: invalid_subject:",
    ):
        assert line in report, report
    # Refused photos leave no example image behind (as a refused single example does).
    assert Image.objects.filter(purpose=ImagePurpose.EXAMPLE).count() == 3


def test_a_second_run_enrols_nothing_new_and_only_the_new_photo(api, people: Path) -> None:
    run(people)
    again = run(people)
    assert again.splitlines()[0] == "enrolled 0, skipped 3 (already enrolled or duplicate), refused 5"
    assert examples() == {"alice": 2, "bob": 1}
    (people / "alice" / "a3.png").write_bytes(photo(RED, -10))
    third = run(people)
    assert third.splitlines()[0] == "enrolled 1, skipped 3 (already enrolled or duplicate), refused 5"
    assert examples() == {"alice": 3, "bob": 1}


def test_the_same_photo_for_another_subject_is_enrolled_for_it(api, people: Path) -> None:
    run(people)
    (people / "dave").mkdir()
    (people / "dave" / "a1.png").write_bytes((people / "alice" / "a1.png").read_bytes())
    assert run(people).splitlines()[0].startswith("enrolled 1, skipped 3")


def test_force_enrols_the_low_quality_face(api, people: Path) -> None:
    run(people)
    report = run(people, "--force")
    assert report.splitlines()[0].startswith("enrolled 1, skipped 3")
    assert examples()["carol"] == 1


def test_dry_run_enrols_nothing(api, people: Path) -> None:
    report = run(people, "--dry-run")
    assert not Subject.objects.exists() and not Image.objects.exists()
    assert "dry run: would submit 6, skip 0 (already enrolled), refuse 2" in report
    assert "carol/notes.jpg: not_an_image" in report


def test_unknown_application_and_missing_folder_are_command_errors(api, people: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No application"):
        call_command("import_subjects", str(people), "--application", "nope")
    with pytest.raises(CommandError, match="not a folder"):
        call_command("import_subjects", str(people / "nope"), "--application", "alpha")


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_an_archive_in_one_call_answers_202_and_its_status_reports_each_file(api) -> None:
    archive = zipped(
        {
            "people/alice/a1.png": photo(RED),
            "people/alice/copy.png": photo(RED),
            "people/bob/party.png": GROUP,
            "people/bob/b1.png": photo(BLUE),
            "__MACOSX/people/alice/._a1.png": b"junk",
        }
    )
    response = api.post("/api/v1/imports", {"archive": upload(archive, "people.zip")}, format="multipart")
    assert response.status_code == 202, response.content
    assert response["Location"].endswith(f"/api/v1/imports/{response.json()['id']}")
    status = api.get(response["Location"]).json()
    assert (status["status"], status["total"], status["done"], status["pending"]) == ("done", 4, 4, 0)
    assert (status["enrolled"], status["skipped"], status["refused"]) == (2, 1, 1)
    assert status["refused_by_code"] == {"more_than_one_face": 1}
    by_file = {item["file"]: item for item in status["items"]}
    assert by_file["people/alice/a1.png"]["status"] == "enrolled"
    assert by_file["people/alice/a1.png"]["face_id"]
    assert (by_file["people/alice/copy.png"]["status"], by_file["people/alice/copy.png"]["code"]) == (
        "skipped",
        "duplicate",
    )
    assert by_file["people/bob/party.png"]["code"] == "more_than_one_face"
    assert examples() == {"alice": 1, "bob": 1}

    again = api.post("/api/v1/imports", {"archive": upload(archive, "people.zip")}, format="multipart").json()
    assert (again["enrolled"], again["skipped"], again["refused"]) == (0, 3, 1)


def test_utf8_folder_names_from_zip_tools_that_do_not_flag_them_keep_their_letters(api) -> None:
    """Info-ZIP's ``zip`` and macOS store UTF-8 names without zip's UTF-8 flag (read as cp437
    they would name the subject "Jos├⌐ ├æ")."""
    placeholder, name = b"Jose__N_", "José Ñ".encode()
    assert len(placeholder) == len(name)  # swapped in the headers: the names are not checksummed
    archive = zipped({f"{placeholder.decode()}/a1.png": photo(RED)}).replace(placeholder, name)
    assert not zipfile.ZipFile(io.BytesIO(archive)).infolist()[0].flag_bits & 0x800
    response = api.post("/api/v1/imports", {"archive": upload(archive, "people.zip")}, format="multipart")
    assert response.status_code == 202, response.content
    [item] = api.get(response["Location"]).json()["items"]
    assert (item["file"], item["subject"], item["status"]) == ("José Ñ/a1.png", "José Ñ", "enrolled")
    assert examples() == {"José Ñ": 1}


def test_files_with_a_subject_each(api) -> None:
    response = api.post(
        "/api/v1/imports",
        {"files": [upload(photo(RED), "x.png"), upload(photo(BLUE), "y.png")], "subject": ["alice", "bob"]},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["enrolled"] == 2
    assert examples() == {"alice": 1, "bob": 1}


def refused(response, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.content


def test_bad_imports_are_refused_with_stable_codes(api, settings) -> None:
    post = lambda body: api.post("/api/v1/imports", body, format="multipart")  # noqa: E731
    refused(post({"archive": upload(b"PK\x03\x04 not really", "x.zip")}), 400, "bad_archive")
    refused(post({"archive": upload(zipped({"../evil/a.png": photo(RED)}), "x.zip")}), 400, "bad_archive")
    refused(post({"archive": upload(zipped({}), "x.zip")}), 400, "empty_import")
    refused(post({}), 400, "empty_import")
    refused(post({"files": [upload(photo(RED))], "subject": []}), 400, "invalid_request")
    settings.FACECORE_IMPORT_MAX_FILES = 1
    refused(
        post({"archive": upload(zipped({"a/1.png": EMPTY, "a/2.png": EMPTY}), "x.zip")}),
        413,
        "too_many_files",
    )
    assert not ImportItem.objects.exists()


def test_an_import_is_private_to_its_application(api, other_api) -> None:
    response = api.post(
        "/api/v1/imports", {"files": [upload(photo(RED))], "subject": ["alice"]}, format="multipart"
    )
    refused(other_api.get(f"/api/v1/imports/{response.json()['id']}"), 404, "not_found")
    refused(api.get("/api/v1/imports/not-a-uuid"), 404, "not_found")


def test_a_photo_the_worker_cannot_decode_is_refused_with_its_code(api, people: Path) -> None:
    whole = photo(BLUE, 20)
    (people / "bob" / "cut.png").write_bytes(whole[: len(whole) // 2])  # the header is fine, the data is not
    report = run(people)
    assert "  bob/cut.png: not_an_image:" in report, report
    assert report.splitlines()[0] == "enrolled 3, skipped 0 (already enrolled or duplicate), refused 6"
    assert not Image.objects.filter(status="failed").exists()  # its failed job is cleaned up


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_progress_bar_shows_rate_and_counts(api, people: Path) -> None:
    err = Terminal()
    call_command("import_subjects", str(people), "--application", "alpha", stdout=io.StringIO(), stderr=err)
    bar = err.getvalue()
    assert "8/8" in bar and "photo/s" in bar, bar
    assert "enrolled=3" in bar and "refused=5" in bar
