"""Peak memory of decode + detect on huge inputs (target: under 2 GiB per process).

Each case runs in a fresh subprocess so ru_maxrss is that case's own peak:

    .venv/bin/python bench/engine_memory.py            # all cases, prints a Markdown table

``baseline`` is the same process after loading the detector and detecting on a small photo,
so ``peak - baseline`` is what the big image itself cost.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

LIMIT_MIB = 2048


def rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def make_inputs(folder: Path) -> dict[str, Path]:
    import numpy as np
    from engine.images import blank_png
    from PIL import Image
    from skimage.data import astronaut

    rng = np.random.default_rng(0)
    # 50 MP photo: the astronaut upscaled, with mild noise so it compresses like a real photo.
    big = Image.fromarray(astronaut()).resize((8660, 5774), Image.Resampling.BILINEAR)
    arr = np.asarray(big).copy()
    del big
    noise = rng.integers(-6, 7, size=arr.shape[:2], dtype=np.int16)[..., None]
    arr = np.clip(arr.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(arr).save(out, "JPEG", quality=80)
    small = io.BytesIO()
    Image.fromarray(arr).resize((4000, 3000), Image.Resampling.BILINEAR).save(small, "JPEG", quality=85)
    paths = {
        "jpeg_12mp": folder / "photo-12mp.jpg",
        "jpeg_50mp": folder / "photo-50mp.jpg",
        "png_49mp_blank": folder / "blank-49mp.png",
        "png_100mp_header": folder / "blank-100mp.png",
        "png_bomb_1600mp": folder / "bomb-1600mp.png",
    }
    paths["jpeg_12mp"].write_bytes(small.getvalue())
    paths["jpeg_50mp"].write_bytes(out.getvalue())
    paths["png_49mp_blank"].write_bytes(blank_png(7_000, 7_000))
    paths["png_100mp_header"].write_bytes(blank_png(10_000, 10_000))
    paths["png_bomb_1600mp"].write_bytes(blank_png(40_000, 40_000))
    return paths


def child(case: str, path: Path) -> dict:
    import numpy as np
    from skimage.data import astronaut

    from facecore.engine import Engine
    from facecore.errors import ImageError
    from facecore.settings import EngineSettings

    engine = Engine(replace(EngineSettings.from_env(), max_image_bytes=50_000_000))
    engine.detect([engine.decode(_jpeg(np.asarray(astronaut())))])
    baseline = rss_peak_mib()
    data = path.read_bytes()
    start = time.perf_counter()
    try:
        [result] = engine.detect([data])
        outcome = f"{result.width}x{result.height}, {len(result.faces)} face(s)"
    except ImageError as exc:
        outcome = f"refused: {exc.code}"
    seconds = time.perf_counter() - start
    peak = rss_peak_mib()
    return {
        "case": case,
        "bytes": len(data),
        "outcome": outcome,
        "seconds": round(seconds, 2),
        "baseline_mib": round(baseline),
        "peak_mib": round(peak),
        "image_mib": round(peak - baseline),
    }


def _jpeg(arr) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(arr).save(out, "JPEG")
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("CASE", "PATH"), help="measure one case (internal)")
    parser.add_argument("--make", metavar="DIR", help="write the input files into DIR (internal)")
    args = parser.parse_args()
    if args.make:
        print(json.dumps({k: str(v) for k, v in make_inputs(Path(args.make)).items()}))
        return 0
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return 0
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # Inputs are made in their own process so making them does not count towards any peak.
        maker = subprocess.run(
            [sys.executable, __file__, "--make", tmp], capture_output=True, text=True, check=True, env=env
        )
        inputs = json.loads(maker.stdout.strip().splitlines()[-1])
        for case, path in inputs.items():
            proc = subprocess.run(
                [sys.executable, __file__, "--child", case, path], capture_output=True, text=True, env=env
            )
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    detector = os.environ.get("FACECORE_DETECTOR", "fast")
    print(f"FACECORE_DETECTOR={detector}, {os.cpu_count()} CPUs\n")
    print("| case | input bytes | outcome | decode+detect s | baseline MiB | peak MiB | image's share MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['case']} | {r['bytes']:,} | {r['outcome']} | {r['seconds']} | {r['baseline_mib']} "
            f"| {r['peak_mib']} | {r['image_mib']} |"
        )
    worst = max(r["peak_mib"] for r in rows)
    print(f"\nworst peak {worst} MiB; limit {LIMIT_MIB} MiB: {'OK' if worst < LIMIT_MIB else 'OVER'}")
    return 0 if worst < LIMIT_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
