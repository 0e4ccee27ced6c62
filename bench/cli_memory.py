"""CLI memory benchmark -> docs/benchmarks.md "## CLI memory".

``python -m facecore detect --json`` in a fresh process on the first N of a list of photos (the
face-recognition-examples photos, 240p to 1080p, repeated to reach N): peak resident memory of
the child (``ru_maxrss``), wall time and the time to the first printed result.

    .venv/bin/python -m bench.cli_memory                   # writes docs/benchmarks.md
    .venv/bin/python -m bench.cli_memory --counts 20 80 --no-write
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import time

from bench.common import (
    REPO,
    load_average,
    machine_summary,
    markdown_table,
    shared_dir,
    utc_now,
    write_section,
)

HEADING = "## CLI memory"

BEFORE = (
    "Before streaming (the CLI decoded every image, then detected them all in one call and printed "
    "at the end), on the same dataset (cycled) and machine: 20 images 1,565 MB and first output after 6.0 s; "
    "40 images 2,428 MB / 8.3 s; 80 images 3,622 MB / 11.7 s (memory grew ~30 MB per image, so 300 "
    "would need ~10 GB; not run)."
)


def photos(count: int) -> list[str]:
    folder = shared_dir() / "datasets" / "face-recognition-examples"
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        sys.exit(f"The benchmark needs the photos of {folder}; set FACECORE_SHARED_DIR.")
    return [str(p) for p in itertools.islice(itertools.cycle(files), count)]


def measure(count: int) -> tuple[float, float, float]:
    """(wall s, first result s, peak RSS MB) of one CLI run over ``count`` photos."""
    start = time.monotonic()
    first = None
    proc = subprocess.Popen(
        [sys.executable, "-m", "facecore", "detect", "--json", *photos(count)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    lines = 0
    for _ in proc.stdout:
        first = first if first is not None else time.monotonic() - start
        lines += 1
    _, _, usage = os.wait4(proc.pid, 0)  # this child's own rusage (KB on Linux)
    assert lines == count, f"{lines} lines for {count} images"
    return time.monotonic() - start, first or 0.0, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[20, 80, 300])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    for count in sorted(args.counts):
        wall, first, rss = measure(count)
        rows.append([str(count), f"{rss:,.0f}", f"{first:.1f}", f"{wall:.1f}"])
    body = (
        f"`make bench-cli` ({utc_now()}; {machine_summary()}; load average {load_average()}).\n\n"
        "`python -m facecore detect --json` over N photos (face-recognition-examples, 240p to 1080p, "
        "repeated), a fresh process each: peak RSS (`ru_maxrss`), seconds to the first JSON line "
        "(mostly TensorFlow's import and the detector's load), wall seconds. Images go through in "
        "chunks of 4 and are dropped after printing, so memory stays flat.\n\n"
        + markdown_table(["images", "peak RSS MB", "first line s", "wall s"], rows)
        + "\n"
        + BEFORE
    )
    print(body)
    if not args.no_write:
        write_section(HEADING, body)


if __name__ == "__main__":
    main()
