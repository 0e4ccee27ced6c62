"""The detector per stage and per pyramid level, TensorFlow (FastMTCNN) beside ONNX (OnnxMTCNN).

Both detectors run on the same photos (decoded as the engine decodes them, ≤ 1024 px), one image
per call, interleaved image by image. Stages are timed from outside (TensorFlow: the pyramid
graph, RNet and ONet calls with their crops and box code) and, for ONNX, inside
(``OnnxMTCNN.timer``: resize, network and box code per pyramid level). The arithmetic of each image
(PNet over its levels, RNet/ONet over the candidates that reach them) gives GFLOP per image and the
share of the machine's float32 matmul rate (numpy, measured in the same run) each detector reaches.

    .venv/bin/python -m bench.engine_profile            # -> docs/benchmarks.md "## Engine profile"
    .venv/bin/python -m bench.engine_profile --limit 16 --no-write
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import defaultdict
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

HEADING = "## Engine profile"
MIN_FACE_SIZE = 20


def pnet_flops(h: int, w: int) -> float:
    h1, w1 = math.ceil((h - 2) / 2), math.ceil((w - 2) / 2)
    macs = (h - 2) * (w - 2) * 27 * 10 + max(0, h1 - 2) * max(0, w1 - 2) * 90 * 16
    macs += max(0, h1 - 4) * max(0, w1 - 4) * (144 * 32 + 32 * 6)
    return 2.0 * macs


RNET_FLOPS = 2.0 * (22 * 22 * 27 * 28 + 9 * 9 * 252 * 48 + 3 * 3 * 192 * 64 + 576 * 128 + 128 * 6)
ONET_FLOPS = 2.0 * (46 * 46 * 27 * 32 + 21 * 21 * 288 * 64 + 8 * 8 * 576 * 64 + 3 * 3 * 256 * 128)
ONET_FLOPS += 2.0 * (1152 * 256 + 256 * 16)


def matmul_rate() -> float:
    """float32 GFLOP/s of a 2048^2 numpy matmul (best of 5), the 'floor' yardstick."""
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    best = math.inf
    for _ in range(5):
        t = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t)
    return 2 * 2048**3 / best / 1e9


class Counter:
    """Wraps a detector's ``_patches`` to count RNet/ONet candidates per side."""

    def __init__(self, detector) -> None:
        self.counts: dict[int, int] = defaultdict(int)
        original = detector._patches

        def counted(images, boxes, side):
            self.counts[side] += sum(len(b) for b in boxes)
            return original(images, boxes, side)

        detector._patches = counted


def timed_tf(detector, seconds: dict[str, float]):
    """Wrap FastMTCNN's stage methods to add their wall time to ``seconds``."""
    for attr, key in (
        ("_proposals", "pnet (resize + net + boxes)"),
        ("_refine_rnet", "rnet"),
        ("_refine_onet", "onet"),
    ):
        original = getattr(detector, attr)

        def wrapper(*args, _original=original, _key=key):
            t = time.perf_counter()
            out = _original(*args)
            seconds[_key] += time.perf_counter() - t
            return out

        setattr(detector, attr, wrapper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    from dataclasses import replace

    from facecore.detectors import fast_boxes as fb
    from facecore.detectors.onnx_mtcnn import StageTimer
    from facecore.engine import Engine
    from facecore.settings import EngineSettings

    load_before = load_average()
    rate = matmul_rate()
    settings = EngineSettings.from_env()
    tf_engine = Engine(replace(settings, runtime="tensorflow"))
    onnx_engine = Engine(replace(settings, runtime="auto"))
    paths = sorted(require_pairs_dir().glob("*.jpg"))[: args.limit]
    images = [onnx_engine.decode(p.read_bytes()).detection for p in paths]
    tf, ox = tf_engine.detector, onnx_engine.detector
    for img in images[:2]:
        tf.detect([img], MIN_FACE_SIZE)
        ox.detect([img], MIN_FACE_SIZE)
    tf_stages: dict[str, float] = defaultdict(float)
    timed_tf(tf, tf_stages)
    ox_stages: dict[str, float] = defaultdict(float)
    timed_tf(ox, ox_stages)
    tf_count, ox_count = Counter(tf), Counter(ox)
    ox.timer = StageTimer()
    total = {"tf": 0.0, "onnx": 0.0}
    pnet_gflop = 0.0
    level_flops: dict[int, float] = defaultdict(float)
    for img in images:
        t = time.perf_counter()
        tf.detect([img], MIN_FACE_SIZE)
        total["tf"] += time.perf_counter() - t
        t = time.perf_counter()
        ox.detect([img], MIN_FACE_SIZE)
        total["onnx"] += time.perf_counter() - t
        h, w = img.shape[:2]
        levels = fb.pyramid_levels(h, w, MIN_FACE_SIZE, ox.params.scale_factor)
        for k, (_, size) in enumerate(levels):
            level_flops[k] += pnet_flops(*size)
            pnet_gflop += pnet_flops(*size) / 1e9
    n = len(images)
    flops = pnet_gflop * 1e9 + tf_count.counts[24] * RNET_FLOPS + tf_count.counts[48] * ONET_FLOPS
    per_image_gflop = flops / n / 1e9

    def ms(seconds: float) -> str:
        return f"{1000 * seconds / n:.1f}"

    ox_stage: dict[str, float] = defaultdict(float)
    ox_level: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for key, value in ox.timer.seconds.items():
        name, _, level = key.partition(" L")
        if level:
            ox_level[int(level)][name] += value
            name = name.replace(" wait", "")
        ox_stage[name.split(" ")[0] + (" " + name.split(" ")[1] if " " in name else "")] += value
    stage_rows = [
        ["pnet (resize + net + boxes)", ms(tf_stages["pnet (resize + net + boxes)"]),
         ms(ox_stages["pnet (resize + net + boxes)"])],
        ["rnet (crops + net + boxes)", ms(tf_stages["rnet"]), ms(ox_stages["rnet"])],
        ["onet (crops + net + boxes)", ms(tf_stages["onet"]), ms(ox_stages["onet"])],
        ["whole detect", ms(total["tf"]), ms(total["onnx"])],
        [
            f"GFLOP/s ({per_image_gflop:.2f} GFLOP/image) and share of the {rate:.0f} GFLOP/s matmul rate",
            f"{flops / total['tf'] / 1e9:.0f} ({flops / total['tf'] / 1e9 / rate:.0%})",
            f"{flops / total['onnx'] / 1e9:.0f} ({flops / total['onnx'] / 1e9 / rate:.0%})",
        ],
    ]  # fmt: skip
    detail_rows = [[k, ms(v)] for k, v in sorted(ox_stage.items(), key=lambda kv: -kv[1])]
    level_rows = [
        [
            f"L{k}",
            f"{level_flops[k] / n / 1e9:.3f}",
            ms(ox_level[k].get("pnet resize wait", 0.0) + ox_level[k].get("pnet resize", 0.0)),
            ms(ox_level[k].get("pnet net", 0.0)),
            ms(ox_level[k].get("pnet boxes", 0.0)),
        ]
        for k in sorted(ox_level)
    ]
    body = "\n".join(
        [
            f"Measured {utc_now()} on {machine_summary()}; load average before/after: {load_before} / "
            f"{load_average()}.",
            "",
            f"Command: `python -m bench.engine_profile{' --limit ' + str(args.limit) if args.limit else ''}`",
            "",
            f"{n} deepface-pairs photos (≤ 1024 px), one image per call, both detectors interleaved in one "
            "process (each slows the other a little: TensorFlow's and OpenVINO's thread pools spin after "
            'their calls; the before/after ratio is in "Engine before/after", separate processes); '
            f"ms per image. Candidates per image: RNet {tf_count.counts[24] / n:.0f} (TF) / "
            f"{ox_count.counts[24] / n:.0f} (ONNX), ONet {tf_count.counts[48] / n:.1f} / {ox_count.counts[48] / n:.1f}.",
            "",
            markdown_table(
                ["stage", "TensorFlow `mtcnn-fast` ms", f"ONNX `mtcnn-onnx` ({ox.executor}) ms"], stage_rows
            ),
            "",
            "ONNX detector, inside each stage (ms per image; PNet's levels run one at a time, and \"pnet "
            'resize" is only the wait for a level: the resizes, and the exact edges of padded levels, run '
            "on a helper thread ahead of PNet):",
            "",
            markdown_table(["step", "ms"], detail_rows),
            "",
            "ONNX detector per pyramid level (ms per image):",
            "",
            markdown_table(["level", "PNet GFLOP", "resize", "net", "boxes + NMS"], level_rows),
        ]
    )
    print(body)
    if not args.no_write:
        write_section(HEADING, body + "\n")
        print("updated docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
