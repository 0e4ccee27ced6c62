"""One photo at a time, as a synchronous call sees the engine: p50/p95 of ``Engine.analyze`` on a
1280x960 JPEG (decode included), TensorFlow (before) beside the default runtime (after).

The photos are shared deepface-pairs photos re-encoded at 1280x960 (a camera snapshot's size),
each call one photo, the two engines alternating call by call. This is the engine's share of a
door event; the service adds the upload, the queue and the gallery search (``bench.load``).

    .venv/bin/python -m bench.engine_latency            # -> docs/benchmarks.md "## Engine latency"
    .venv/bin/python -m bench.engine_latency --calls 20 --no-write
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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

HEADING = "## Engine latency"
SIZE = (1280, 960)


def snapshots(folder: Path, count: int) -> list[bytes]:
    from PIL import Image, ImageOps

    out = []
    for path in sorted(folder.glob("*.jpg"))[:count]:
        with Image.open(path) as raw:
            image = ImageOps.exif_transpose(raw).convert("RGB").resize(SIZE, Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    from dataclasses import replace

    from facecore.engine import Engine
    from facecore.settings import EngineSettings

    load_before = load_average()
    photos = snapshots(require_pairs_dir(), args.calls)
    settings = EngineSettings.from_env()
    engines = {runtime: Engine(replace(settings, runtime=runtime)) for runtime in ("tensorflow", "auto")}
    for engine in engines.values():
        engine.analyze(photos[:2])
    times: dict[str, list[float]] = {name: [] for name in engines}
    for data in photos:
        for name, engine in engines.items():
            start = time.perf_counter()
            engine.analyze([data])
            times[name].append(1000 * (time.perf_counter() - start))
    rows = []
    for name, values in times.items():
        engine = engines[name]
        where = f"`{engine.detector.name}` + {getattr(engine.embedder(), 'executor', 'tensorflow')}"
        rows.append(
            [f"`FACECORE_RUNTIME={name}` ({where})"]
            + [f"{np.percentile(values, q):.0f}" for q in (50, 95)]
            + [f"{max(values):.0f}"]
        )
    body = "\n".join(
        [
            f"Measured {utc_now()} on {machine_summary()}; load average before/after: {load_before} / "
            f"{load_average()}.",
            "",
            f"Command: `python -m bench.engine_latency --calls {args.calls}`",
            "",
            f"`Engine.analyze` of one {SIZE[0]}x{SIZE[1]} JPEG per call (decode, detect, embed with the default "
            f"model), {len(photos)} different photos, the two runtimes alternating call by call; ms.",
            "",
            markdown_table(["runtime", "p50 ms", "p95 ms", "max ms"], rows),
        ]
    )
    print(body)
    if not args.no_write:
        write_section(HEADING, body + "\n")
        print("updated docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
