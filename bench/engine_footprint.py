"""A worker's start-up time and resident memory on each runtime, and the API process's memory.

Each case runs in a fresh subprocess (``FACECORE_RUNTIME`` set for it), as a worker process does:
Django set up, ``worker.tasks`` and ``api.urls`` imported, then the engine warmed as
``worker.warmup.warm_engine`` warms it (detector + the default model, one call each, and
OpenVINO's usual input shapes): "ready" is the wall time from interpreter start to that point. Then ``--jobs`` engine jobs (``Engine.analyze``
of one photo each, cycling the shared deepface-pairs photos) and the resident set size after them.
The API row is a process that imports the API and the engine package without loading models
(the API process never runs the networks: synchronous calls go to a worker).

    .venv/bin/python -m bench.engine_footprint            # 500 jobs per runtime -> docs/benchmarks.md
    .venv/bin/python -m bench.engine_footprint --jobs 50 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import (  # noqa: E402
    load_average,
    machine_summary,
    markdown_table,
    require_pairs_dir,
    utc_now,
    write_section,
)

HEADING = "## Engine footprint"
GROWTH = "Where the worker's memory goes (default runtime, AMD EPYC, 2026-12-07): with a shape per pyramid level per image size (before the padded levels and fixed batch sizes of `pnet_padding` / `run_in_chunks`), a worker was ready at 429 MiB and grew to 627 MiB after 500 jobs, from the variety of image sizes, not the number of jobs (one photo analysed 300 times stayed at 480 MiB): OpenVINO keeps each shape's set-up and buffers. With few shapes it is ready at about 510 MiB (the usual frames' shapes set up at start, 0.3 s) and grows by about 55 MiB over the 500 jobs. Tried before against the growth, and not kept: `MALLOC_ARENA_MAX=2`, `MALLOC_MMAP_THRESHOLD_=1048576`, a shape cache of 16 (a set-up on every call for a camera's steady size)."

CHILD = r"""
import json, os, sys, time
start = time.perf_counter()
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
import api.urls  # noqa: F401
import facecore.engine  # noqa: F401
def rss():
    for line in open("/proc/self/status"):
        if line.startswith(("VmRSS:", "VmHWM:")):
            yield line.split()[0][:-1], int(line.split()[1]) / 1024
out = {"api_rss": dict(rss())["VmRSS"], "api_s": time.perf_counter() - start}
if MODE == "worker":
    import numpy as np
    import worker.tasks  # noqa: F401
    from facecore.engine import get_engine
    from facecore.types import Box, Face
    engine = get_engine()
    blank = np.full((160, 160, 3), 128, dtype=np.uint8)
    engine.detector.detect([blank], engine.settings.min_face_size)
    if hasattr(engine.detector, "warm_shapes"):
        engine.detector.warm_shapes(engine.settings.detection_max_side, engine.settings.min_face_size)
    embedder = engine.embedder()
    face = Face(box=Box(40, 30, 120, 130), probability=1.0, landmarks={})
    embedder.embed(np.stack([embedder.prepare(blank, face)]))
    out["ready_s"] = time.perf_counter() - start
    out["ready_rss"] = dict(rss())["VmRSS"]
    photos = sorted(PHOTOS.glob("*.jpg"))
    data = [p.read_bytes() for p in photos]
    t = time.perf_counter()
    from facecore.runtime import release_memory
    for i in range(JOBS):
        engine.analyze([data[i % len(data)]])
        release_memory()  # as worker.tasks does after each job
    out["jobs_s"] = time.perf_counter() - t
    out.update({"after_" + k: v for k, v in rss()})
    out["tensorflow"] = "tensorflow" in sys.modules
    out["detector"] = engine.detector.name
    out["executor"] = getattr(embedder, "executor", "tensorflow")
print("RESULT " + json.dumps(out))
"""


def run_case(mode: str, runtime: str, jobs: int, photos: Path) -> dict:
    code = (
        f"from pathlib import Path\nMODE = {mode!r}\nJOBS = {jobs}\nPHOTOS = Path({str(photos)!r})\n" + CHILD
    )
    env = {**os.environ, "FACECORE_RUNTIME": runtime, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{mode}/{runtime} failed: {out.stderr[-2000:]}")
    return json.loads(lines[-1][7:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    photos = require_pairs_dir()
    load_before = load_average()
    rows = []
    for runtime in ("tensorflow", "auto"):
        r = run_case("worker", runtime, args.jobs, photos)
        rows.append(
            [
                f"worker, `FACECORE_RUNTIME={runtime}`",
                f"{r['detector']} / {r['executor']}",
                "yes" if r["tensorflow"] else "no",
                f"{r['ready_s']:.2f}",
                f"{r['ready_rss']:.0f}",
                f"{r['after_VmRSS']:.0f}",
                f"{r['after_VmHWM']:.0f}",
                f"{args.jobs / r['jobs_s']:.2f}",
            ]
        )
    api = run_case("api", "auto", 0, photos)
    rows.append(
        ["API process (no models)", "—", "no", f"{api['api_s']:.2f}", f"{api['api_rss']:.0f}", "—", "—", "—"]
    )
    table = markdown_table(
        [
            "process",
            "detector / executor",
            "TensorFlow imported",
            "ready s",
            "RSS ready MiB",
            f"RSS after {args.jobs} jobs MiB",
            "peak MiB",
            "jobs/s (one photo per call)",
        ],
        rows,
    )
    body = (
        f"Measured {utc_now()} on {machine_summary()}; load average before/after: {load_before} / "
        f"{load_average()}.\n\nCommand: `python -m bench.engine_footprint --jobs {args.jobs}`\n\n"
        "Each row is a fresh process: Django set up, the API (and for a worker `worker.tasks`) imported, "
        "the engine warmed as `worker.warmup` warms it (detector and default model, one call each, and OpenVINO's usual input shapes); "
        '"ready" is interpreter start to warm. Then the jobs: `Engine.analyze` of one shared '
        "deepface-pairs photo each, cycling the 64. Targets (issue 20): worker ≤ 600 MB after 500 jobs, "
        "API ≤ 200 MB, worker ready ≤ 3 s.\n\n" + table + "\n" + GROWTH
    )
    print(body)
    if not args.no_write:
        write_section(HEADING, body)
        print("updated docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
