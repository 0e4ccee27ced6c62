"""A door event end to end: one synchronous ``POST /api/v1/recognize`` of a 1280x960 photo on an
idle ``manage.py runall`` (what ``make run`` starts) with a gallery of 1,000 subjects, TensorFlow
(before) beside the default runtime (after) -> docs/benchmarks.md "## Synchronous recognize".

Two runalls run at once, each on a fresh data folder with its own embedded database, broker and
worker; one is started with ``FACECORE_RUNTIME=tensorflow``, the other with the default; with
``--before-repo`` the "before" one runs another checkout (the code before a change, e.g. a git
worktree). Each gets the same gallery: 1,000 lfw-dev people as subjects, up to two example faces
each, inserted with their real facenet embeddings (``bench.recognize_latency.enrol``, run in a
child process against that folder's database; needs ``bench.lfw_data``'s cache, made on first
use). Then the two take turns, 8 calls each, one call at a time, so the stack answering is the
only one working and both see the same machine load over the run. The time is the client's:
upload, queue, worker (decode, detect, embed, store, gallery search, decision) and the wait.

    FACECORE_SHARED_DIR=../shared .venv/bin/python -m bench.sync_recognize [--calls 64] [--before-repo DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import load_average, machine_summary, markdown_table, publish, require_pairs_dir, utc_now  # noqa: E402
from bench.engine_latency import snapshots  # noqa: E402
from bench.service import runall  # noqa: E402
from bench.vectors import percentile  # noqa: E402
from facecore.settings import default_models_dir  # noqa: E402

HEADING = "## Synchronous recognize"
STACKS = {
    "before": ("`FACECORE_RUNTIME=tensorflow`", {"FACECORE_RUNTIME": "tensorflow"}),
    "after": ("default (`auto`: ONNX files on OpenVINO)", {}),
}
"""Each stack's label and environment; ``--before-repo`` runs the "before" stack from another
checkout (the code before a change), the "after" stack always runs this one."""
WARM_UP_CALLS = 4
BLOCK = 8
"""Calls in a row to one stack before the other takes its turn (both get the same photos)."""


def seed(data_dir: Path) -> None:
    """Child process: the gallery into the only application of the runall on ``data_dir``."""
    os.environ.update(FACECORE_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="config.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from bench.recognize_latency import enrol, gallery
    from tenants.models import Application

    faces = enrol(Application.objects.get(), gallery())
    print(f"enrolled {len(faces)} example faces", flush=True)


def recognize(base: str, key: str, photo: bytes) -> tuple[float, dict]:
    start = time.perf_counter()
    response = requests.post(
        f"{base}/api/v1/recognize",
        headers={"X-API-Key": key},
        files={"image": ("door.jpg", photo)},
        timeout=120,
    )
    elapsed = (time.perf_counter() - start) * 1000
    response.raise_for_status()
    return elapsed, response.json()


def measure(calls: int, before_repo: Path | None = None) -> dict:
    photos = snapshots(require_pairs_dir(), 64)
    times: dict[str, list[float]] = {name: [] for name in STACKS}
    faces: dict[str, int] = {name: 0 for name in STACKS}
    log_dir = Path(tempfile.mkdtemp(prefix="facecore-bench-sync-"))
    with contextlib.ExitStack() as stack:
        bases = {}
        for name, (_, env) in STACKS.items():
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"facecore-sync-{name}-")))
            repo = before_repo if name == "before" and before_repo else REPO
            env = {"FACECORE_MODELS_DIR": str(default_models_dir()), **env}
            base, key, _ = stack.enter_context(
                runall("", log_dir / f"runall-{name}.log", repo=repo, extra_env=env, data_dir=data_dir)
            )
            subprocess.run(
                [sys.executable, "-m", "bench.sync_recognize", "--seed", str(data_dir)], cwd=REPO, check=True
            )
            bases[name] = (base, key)
        for i in range(WARM_UP_CALLS):
            for base, key in bases.values():
                recognize(base, key, photos[i])
        time.sleep(2)
        for block in range(0, calls, BLOCK):
            order = list(bases.items()) if block // BLOCK % 2 == 0 else list(reversed(bases.items()))
            for name, (base, key) in order:
                time.sleep(1)  # the other stack's thread pools have gone idle
                for i in range(block, min(block + BLOCK, calls)):
                    elapsed, body = recognize(base, key, photos[i % len(photos)])
                    times[name].append(elapsed)
                    faces[name] += len(body.get("result") or body.get("faces") or [])
                    time.sleep(0.2)
    print(f"runall logs: {log_dir}")
    return {
        name: {
            "p50": percentile(t, 50), "p95": percentile(t, 95), "max": max(t), "n": len(t), "faces": faces[name]
        }
        for name, t in times.items()
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--seed", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--before-repo", type=Path, help="the checkout the 'before' stack runs")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.seed:
        seed(args.seed)
        return 0
    before_load = load_average()
    result = measure(args.calls, args.before_repo)
    print(result)
    rows = [
        [label, f"{result[name]['p50']:.0f}", f"{result[name]['p95']:.0f}", f"{result[name]['max']:.0f}",
         str(result[name]["n"]), str(result[name]["faces"])]
        for name, (label, _) in STACKS.items()
    ]  # fmt: skip
    body = (
        f"Measured {utc_now()} on {machine_summary()}; load average before/after: {before_load} / "
        f"{load_average()}.\n\nCommand: `python -m bench.sync_recognize --calls {args.calls}`\n\n"
        "One synchronous `POST /api/v1/recognize` of a 1280x960 JPEG (deepface-pairs photos re-encoded "
        "at that size) at a time, on an idle `manage.py runall` (embedded PostgreSQL, Valkey broker, "
        "folder object store) with 1,000 subjects (up to two example faces each, real facenet "
        "embeddings of lfw-dev people); the two runalls answer in turn, 8 calls each (the same photos), one call at a time. Client time in ms "
        "(upload, queue, worker, gallery search and decision, the call's database polling). Targets "
        "(issue 20): p50 ≤ 150 ms, p95 ≤ 250 ms.\n\n"
        + markdown_table(["runtime", "p50 ms", "p95 ms", "max ms", "calls", "faces"], rows)
    )
    publish(HEADING, body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
