"""``manage.py import_subjects DIR``: enrol a folder of photos, one sub-folder per subject.

The photos are submitted to the worker pool (this process only reads files and follows the
import); a progress bar shows the settled photos with their rate and ETA, and a report ends the
run. Running it again skips what is already enrolled (recognition.bulk).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from infra.errors import ErrorCode, ServiceError
from recognition import bulk
from recognition.import_files import folder_files
from recognition.models import ImportJob, ImportStatus
from tenants.models import Application

POLL_SECONDS = 0.5


def application(value: str | None) -> Application:
    """The application named (or with the id) ``value``; the only one when ``value`` is None."""
    if value is None:
        apps = list(Application.objects.all()[:2])
        if len(apps) != 1:
            raise CommandError("Say which application with --application NAME (there is not exactly one).")
        return apps[0]
    app = Application.objects.filter(name=value).first()
    if app is None:
        try:
            app = Application.objects.filter(pk=uuid.UUID(value)).first()
        except ValueError:
            app = None
    if app is None:
        raise CommandError(f"No application {value!r}.")
    return app


class Command(BaseCommand):
    help = (
        "Enrol the photos of DIR/<subject>/... as examples of <subject>, through the worker pool. "
        "Resumable: photos already enrolled for their subject are skipped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("dir", type=Path, help="a folder with one sub-folder per subject")
        parser.add_argument("--application", help="application name or id (default: the only one)")
        parser.add_argument("--dry-run", action="store_true", help="check and report; enrol nothing")
        parser.add_argument("--force", action="store_true", help="enrol faces below the quality floor too")
        parser.add_argument("--det-prob-threshold", type=float, default=None)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, dir: Path, dry_run: bool, force: bool, **options) -> None:
        if not dir.is_dir():
            raise CommandError(f"{dir} is not a folder.")
        app = application(options["application"])
        files = folder_files(dir)
        if not files:
            raise CommandError(f"No files under {dir}: expected {dir}/<subject>/<photo>.")
        subjects = len({subject for subject, _, _ in files if subject})
        self.stderr.write(f"{len(files)} photos of {subjects} subjects for application {app.name!r}.")
        bar = tqdm(
            total=len(files),
            unit="photo",
            file=self.stderr._out,
            disable=True if options["no_progress"] else None,  # None: only on a terminal
            dynamic_ncols=True,
        )
        with bar:
            if dry_run:
                lines = self._dry_run(app, files, bar)
            else:
                lines = self._run(app, files, force, options["det_prob_threshold"], bar)
        self.stdout.write("\n".join(lines))

    def _dry_run(self, app: Application, files, bar) -> list[str]:
        would, skipped, refused = [], [], []
        for subject, rel, path in files:
            outcome, _, _ = bulk.precheck(app, subject, _read(path))
            if outcome is None:
                would.append(rel)
            elif outcome.status == ImportStatus.SKIPPED:
                skipped.append(rel)
            else:
                refused.append((rel, outcome.code, outcome.message))
            bar.update(1)
        lines = [
            f"dry run: would submit {len(would)}, skip {len(skipped)} (already enrolled), refuse {len(refused)}"
        ]
        lines += [f"  {rel}: {code}: {message}" for rel, code, message in refused]
        lines.append(
            "Faces are only found by the worker: no_face / more_than_one_face / low_quality_face show in a real run."
        )
        return lines

    def _run(self, app: Application, files, force: bool, threshold: float | None, bar) -> list[str]:
        job = bulk.start(app, source="command", force=force, det_prob_threshold=threshold)
        self.stderr.write(f"import {job.id}: Ctrl-C stops watching; the workers finish what was sent.")
        last = 0.0
        try:
            for subject, rel, path in files:
                bulk.add(job, subject, rel, _read(path))
                if time.monotonic() - last > POLL_SECONDS:
                    _show(bar, bulk.progress(job))
                    last = time.monotonic()
            while not _show(bar, bulk.progress(job)).finished:
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            self.stderr.write("\nStopped watching; run the same command again to finish the rest.")
        return report(job)


def _read(path: Path) -> bytes | ServiceError:
    try:
        return path.read_bytes()
    except OSError as exc:
        return ServiceError(ErrorCode.NOT_AN_IMAGE, f"Cannot read the file: {exc.strerror or exc}")


def _show(bar, progress: bulk.Progress) -> bulk.Progress:
    bar.n = progress.done
    bar.set_postfix(
        enrolled=progress.enrolled, skipped=progress.skipped, refused=progress.refused, refresh=False
    )
    bar.refresh()
    return progress


def report(job: ImportJob) -> list[str]:
    """The end-of-run report: counts, refusals by reason, then each refused file."""
    p = bulk.progress(job)
    lines = [
        f"enrolled {p.enrolled}, skipped {p.skipped} (already enrolled or duplicate), refused {p.refused}"
    ]
    if p.total > p.done:
        lines.append(f"still processing {p.total - p.done} (see GET /api/v1/imports/{job.id})")
    for code, count in p.refused_by_code.items():
        lines.append(f"refused {code}: {count}")
    for item in job.items.filter(status=ImportStatus.REFUSED).order_by("file"):
        lines.append(f"  {item.file}: {item.code}: {item.message}")
    return lines
