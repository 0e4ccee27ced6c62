"""Bulk import benchmark -> docs/benchmarks.md "## Bulk import".

``manage.py import_subjects`` on face-recognition-examples (its 26 labelled photos, as they are,
in one folder per person) repeated ``--copies`` times under distinct subject names, with a real
Celery worker (``--concurrency`` processes, the real models) on Redis, the embedded (or
DATABASE_URL) PostgreSQL and a throwaway folder object store. A warm-up import waits for the
worker's models first. Reported: the first run (everything processed) and the second (resumed:
enrolled photos skipped, refused ones processed again), photos per second of wall time.

    .venv/bin/python -m bench.bulk_import                  # writes docs/benchmarks.md
    .venv/bin/python -m bench.bulk_import --copies 1 --no-write
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import (
    REPO,
    load_average,
    machine_summary,
    markdown_table,
    shared_dir,
    utc_now,
    write_section,
)

HEADING = "## Bulk import"


def dataset() -> Path:
    path = shared_dir() / "datasets" / "face-recognition-examples"
    if not (path / "labels.csv").is_file():
        sys.exit(f"The benchmark needs {path}/labels.csv; set FACECORE_SHARED_DIR.")
    return path


def lay_out(root: Path, copies: int) -> int:
    """Each photo in the folder of the first person in it, once per copy (``<person>-<n>``)."""
    source = dataset()
    count = 0
    with (source / "labels.csv").open() as f:
        rows = list(csv.DictReader(f))
    for n in range(copies):
        for row in rows:
            folder = root / f"{row['persons'].split(';')[0]}-{n}"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / row["file"], folder / row["file"])
            count += 1
    return count


def run_import(root: Path, application: str) -> tuple[float, str]:
    from django.core.management import call_command

    out = io.StringIO()
    start = time.perf_counter()
    call_command("import_subjects", str(root), "--application", application, "--no-progress", stdout=out)
    return time.perf_counter() - start, out.getvalue().splitlines()[0]


def one_by_one(root: Path, application: str) -> float:
    """The same photos as one synchronous add-example call each (POST /subjects/{name}/faces's
    service), in order: what a client script does without the bulk import."""
    from images.checks import checked_image
    from infra.errors import ServiceError
    from recognition import sync
    from tenants.models import Application

    app = Application.objects.get(name=application)
    start = time.perf_counter()
    for path in sorted(root.rglob("*.*")):
        with contextlib.suppress(ServiceError):
            sync.add_example(app, path.parent.name, checked_image(path.read_bytes()), None)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    queue = f"bench-faces-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        S3_ENDPOINT="",
        FACECORE_OBJECTS_DIR=str(work / "objects"),
        CELERY_BROKER_URL=os.environ.get("FACECORE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
        FACECORE_FACES_QUEUE=queue,
    )
    import django

    django.setup()
    from django.core.management import call_command

    from tenants.models import Application

    call_command("migrate", interactive=False, verbosity=0)
    app = Application.objects.create(name=f"bench-import-{uuid.uuid4().hex[:8]}")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue,
         "--concurrency", str(args.concurrency), "--loglevel", "WARNING"],
        cwd=REPO, env=os.environ.copy(), start_new_session=True,
    )  # fmt: skip
    try:
        warm = work / "warm"
        (warm / "warm").mkdir(parents=True)
        for n in range(args.concurrency * 2):  # every pool process loads its models
            shutil.copyfile(dataset() / "biden.jpg", warm / "warm" / f"{n}.jpg")
            (warm / "warm" / f"{n}.jpg").open("ab").write(bytes([n]))  # distinct content
        run_import(warm, app.name)
        photos = lay_out(work / "people", args.copies)
        first, first_report = run_import(work / "people", app.name)
        second, second_report = run_import(work / "people", app.name)
        baseline_app = Application.objects.create(name=f"bench-import-{uuid.uuid4().hex[:8]}")
        try:
            baseline = one_by_one(work / "people", baseline_app.name)
        finally:
            baseline_app.delete()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        app.delete()
        shutil.rmtree(work, ignore_errors=True)

    rows = [
        [
            "one synchronous call per photo",
            str(photos),
            f"{baseline:.1f}",
            f"{photos / baseline:.2f}",
            "(baseline)",
        ],
        ["first run", str(photos), f"{first:.1f}", f"{photos / first:.2f}", first_report],
        ["second run (resumed)", str(photos), f"{second:.1f}", f"{photos / second:.2f}", second_report],
    ]
    table = markdown_table(["run", "photos", "wall s", "photos/s", "report"], rows)
    body = (
        f"`make bench-import` ({utc_now()}; {machine_summary()}; load average {load_average()}).\n\n"
        f"`manage.py import_subjects` on face-recognition-examples x {args.copies} (the 26 photos as "
        f"they are, 240p to 1080p, one folder per person and copy), one Celery worker with "
        f"{args.concurrency} processes (real models), Redis, PostgreSQL, a folder store. The first run "
        "processes every photo; the second skips the enrolled ones by their (subject, SHA-256) key and "
        "processes only the refused ones again. The baseline sends the same photos one at a time "
        "through the add-example service (what `POST /subjects/{name}/faces` in a loop does), on the "
        "same worker.\n\n" + table
    )
    print(body)
    if not args.no_write:
        write_section(HEADING, body)


if __name__ == "__main__":
    main()
