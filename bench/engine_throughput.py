"""Engine throughput: the ``mtcnn`` package's plain loop vs FastMTCNN vs the engine.

Images: the shared deepface-pairs photos, decoded, EXIF-transposed and downscaled to at most
1024 px (longer side) before any timing.  Every run gets a warm-up first; all runs happen in
the same process, one after another, so their ratios are comparable even on a busy machine.

    .venv/bin/python bench/engine_throughput.py              # measure, print, update docs
    .venv/bin/python bench/engine_throughput.py --no-write --limit 12

Writes the "## Engine throughput" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ info/warning chatter, before TF loads

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import (  # noqa: E402
    load_average,
    load_rgb,
    machine_summary,
    markdown_table,
    require_pairs_dir,
    utc_now,
    write_section,
)
from facecore.detectors.fast_agreement import Agreement, compare_rows, rows_from_mtcnn_json  # noqa: E402

HEADING = "## Engine throughput"
MAX_SIDE = 1024
MIN_FACE_SIZE = 20
ONET_THRESHOLD = 0.8
BAND = 0.05
MIN_IOU = 0.9


@dataclass
class Method:
    """One row of the table: a callable taking a list of images, and how many to give it per call."""

    name: str
    per_call: int
    call: Callable[[list], list[np.ndarray]]
    """images -> one detector-row array (or list of faces) per image."""
    count: Callable[[object], int] = len
    compare: bool = False
    """Check its faces against the plain loop's (only for detector rows on the same arrays)."""
    note: str = ""
    seconds: float = 0.0
    images: int = 0
    faces: int = 0
    results: list = field(default_factory=list)

    def run(self, items: list) -> None:
        start = time.perf_counter()
        out = []
        for i in range(0, len(items), self.per_call):
            out.extend(self.call(items[i : i + self.per_call]))
        self.seconds += time.perf_counter() - start
        self.images += len(items)
        self.faces += sum(self.count(r) for r in out)
        if self.compare:
            self.results.extend(out)

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds

    @property
    def faces_per_s(self) -> float:
        return self.faces / self.seconds


def describe(agreement: Agreement) -> str:
    unexplained = agreement.unexplained(ONET_THRESHOLD, BAND, MIN_IOU)
    unmatched = agreement.unmatched_probs
    in_band = sum(p < ONET_THRESHOLD + BAND for p in unmatched)
    min_iou = min(agreement.matched_ious, default=1.0)
    max_dp = max(agreement.prob_diffs, default=0.0)
    text = f"{agreement.matched}/{agreement.reference} matched, min IoU {min_iou:.3f}, max Δp {max_dp:.4f}"
    if unmatched:
        text += f"; {len(unmatched)} unmatched ({in_band} within {BAND} of the threshold)"
    return text + ("" if unexplained == 0 else f"; **{unexplained} unexplained**")


def agree(reference: list[np.ndarray], rows: list[np.ndarray]) -> str:
    total = Agreement(0, 0)
    for ref, got in zip(reference, rows, strict=True):
        total = total.merge(compare_rows(ref, got))
    return describe(total)


def load_images(folder: Path, limit: int | None) -> tuple[list[Path], list[np.ndarray]]:
    paths = sorted(folder.glob("*.jpg"))[:limit]
    images = [load_rgb(p, MAX_SIDE) for p in tqdm(paths, desc="load", unit="img", leave=False)]
    return paths, images


def detector_methods(images: list[np.ndarray], batch: int) -> list[Method]:
    import mtcnn

    from facecore.detectors.fast_mtcnn import FastMTCNN

    plain = mtcnn.MTCNN()
    fast = FastMTCNN()
    for img in images[:3]:  # warm-up: graph tracing, TF kernels, caches
        plain.detect_faces(img)
        fast.detect([img], MIN_FACE_SIZE)
    fast.detect(images[:batch], MIN_FACE_SIZE)
    return [
        Method(
            "(a) `mtcnn.MTCNN().detect_faces`, plain loop",
            1,
            lambda b: [rows_from_mtcnn_json(plain.detect_faces(b[0]))],
            compare=True,
            note="reference",
        ),
        Method("(b) FastMTCNN, one image per call", 1, lambda b: fast.detect(b, MIN_FACE_SIZE), compare=True),
        Method(f"(c) FastMTCNN, batch {batch}", batch, lambda b: fast.detect(b, MIN_FACE_SIZE), compare=True),
    ]


ENGINE_RUNTIMES = (("(d)", "tensorflow"),)
"""Engine rows on TensorFlow, comparable with the rows above. ``--with-onnx`` adds (e), the
default runtime, in the same process; the before/after comparison that counts is
bench/engine_ab.py (separate processes): in one process TensorFlow's spinning thread pools take
the cores from whatever runs after them, which slowed (e) by 15-30% here."""


def engine_methods(
    paths: list[Path], batch: int, model: str, runtimes=ENGINE_RUNTIMES
) -> tuple[list[Method], list[str], list]:
    """Engine.detect / Engine.analyze on images decoded beforehand by ``Engine.decode``, once per
    runtime, so TensorFlow (before) and the ONNX runtime (after) run side by side."""
    try:
        from dataclasses import replace

        from facecore.engine import Engine
        from facecore.settings import EngineSettings
    except ImportError as exc:
        return [], [f"Engine rows skipped: facecore.engine not importable ({exc})."], []
    settings = EngineSettings.from_env()
    engines = [(label, Engine(replace(settings, runtime=runtime))) for label, runtime in runtimes]
    first = engines[0][1]
    start = time.perf_counter()
    decoded = [first.decode(p.read_bytes()) for p in tqdm(paths, desc="decode", unit="img", leave=False)]
    decode_ms = 1000 * (time.perf_counter() - start) / len(paths)
    sample = decoded[:batch]
    n_faces = lambda r: len(r.faces)  # noqa: E731
    methods: list[Method] = []
    notes = [
        f"Engine rows take images already decoded by `Engine.decode` (bytes → upright RGB, detection copy "
        f"≤ {settings.detection_max_side} px), like the plain loop. Engine faces are those with "
        f"probability ≥ {settings.det_prob_threshold} (its `det_prob_threshold`). `Engine.decode` itself "
        f"(in no row) took {decode_ms:.1f} ms/image on average for these files.",
    ]
    for label, engine in engines:
        engine.detect(sample)  # warm-up
        detector = engine.detector
        where = getattr(detector, "executor", "tensorflow")
        tag = f"{label} {engine.settings.runtime} → `{detector.name}` on {where}"
        notes.append(f"{tag}.")
        methods += [
            Method(f"{label} `Engine.detect`, one image per call", 1, engine.detect, n_faces, compare=True),
            Method(f"{label} `Engine.detect`, batch {batch}", batch, engine.detect, n_faces, compare=True),
        ]
        try:
            engine.analyze(sample, model=model)  # warm-up, loads the model
        except Exception as exc:  # noqa: BLE001 - any failure to load weights just skips the rows
            notes.append(
                f"`Engine.analyze` rows skipped for {label}: model `{model}` unavailable "
                f"({type(exc).__name__}: {exc}); fetch it with `python -m facecore models fetch {model}`."
            )
            continue

        def analyze(b: list, engine=engine) -> list:
            return engine.analyze(b, model=model)

        note = "detect + embed every face"
        methods += [
            Method(f"{label} `Engine.analyze` ({model}), one image per call", 1, analyze, n_faces, note=note),
            Method(f"{label} `Engine.analyze` ({model}), batch {batch}", batch, analyze, n_faces, note=note),
        ]
    return methods, notes, decoded


def engine_agreement(reference: list, results: list) -> str:
    """Faces of two engines' ``ImageResult`` lists: matched count, max box and probability difference."""
    total, matched, box, prob = 0, 0, 0.0, 0.0
    for ref, got in zip(reference, results, strict=True):
        total += len(ref.faces)
        if len(ref.faces) != len(got.faces):
            continue
        for a, b in zip(ref.faces, got.faces, strict=True):
            edges = [a.box.x_min - b.box.x_min, a.box.y_min - b.box.y_min]
            edges += [a.box.x_max - b.box.x_max, a.box.y_max - b.box.y_max]
            box = max(box, max(abs(e) for e in edges))
            prob = max(prob, abs(a.probability - b.probability))
            matched += 1
    return f"{matched}/{total} same faces, max box Δ {box:.0f} px (whole pixels), max Δp {prob:.5f}"


def _agreement_text(runs: list[Method], r: Method) -> str:
    if not r.compare or r is runs[0]:
        return r.note
    if r.name.startswith("(e)"):  # the ONNX engine against the TensorFlow engine's same row
        twin = next((m for m in runs if m.name == "(d)" + r.name[3:]), None)
        return "vs (d): " + engine_agreement(twin.results, r.results) if twin else r.note
    if r.name.startswith("(d)"):
        with_onnx = any(m.name.startswith("(e)") for m in runs)
        return "reference for (e)" if with_onnx else "same detector as (b)/(c)"
    return agree(runs[0].results, r.results)


def speedups(runs: list[Method]) -> list[str]:
    """(e) over (d), row by row."""
    lines = []
    for r in runs:
        twin = next((m for m in runs if r.name.startswith("(e)") and m.name == "(d)" + r.name[3:]), None)
        if twin:
            lines.append(f"{r.name[4:]}: {r.images_per_s / twin.images_per_s:.2f}x")
    return lines


def render(runs: list[Method], notes: list[str], command: str, load_before: str, load_after: str) -> str:
    base = runs[0].images_per_s
    rows = [
        [
            r.name,
            str(r.images),
            str(r.faces),
            f"{r.images_per_s:.2f}",
            f"{r.faces_per_s:.2f}",
            f"{r.images_per_s / base:.2f}x",
            _agreement_text(runs, r),
        ]
        for r in runs
    ]
    table = markdown_table(
        ["run", "images", "faces", "images/s", "faces/s", "vs plain loop", "faces vs plain loop"], rows
    )
    lines = [
        f"Measured {utc_now()} on {machine_summary()}; load average before/after: {load_before} / {load_after} "
        "(a shared machine: other work running at the same time slows every row alike).",
        "",
        f"Command: `{command}`",
        "",
        f"Images: the {runs[0].images} `deepface-pairs/*.jpg` photos, EXIF-transposed and downscaled to ≤ {MAX_SIDE} px, "
        f"decoded before timing; `min_face_size` {MIN_FACE_SIZE}; each run after a warm-up.",
        "",
        table,
        "Targets (issue): the engine's detection ≥ 2x the plain loop, and detect + embed ≥ 1.5x the plain "
        "loop's detection alone, with the same faces.",
        "",
        "How FastMTCNN gets there with the package's own networks and weights: one graph call per image "
        "runs every pyramid level (area resize + PNet as plain `tf.nn` ops on the package's weights, each "
        "level in a `tf.cond` slot of a graph traced once); RNet and ONet run once per stage for all "
        "candidates of all images in the call (traced `tf.function`s, no `model.predict`); box arithmetic "
        "and NMS repeat the package's numpy code (same float64 math, same sort order), so on these photos "
        "the faces are the package's up to float rounding (a separate check on the package's unrounded "
        "numpy output found |Δp| < 1e-6 and box/landmark differences < 0.001 px; the IoU below 1 in the "
        "table is the package's JSON rounding boxes to whole pixels). Batching helps little: nearly all the time is PNet arithmetic, not call overhead.",
        "",
        f"Agreement: faces paired by box IoU; a pair agrees at IoU ≥ {MIN_IOU}; a face found by only one side is "
        f"explained when its probability is within {BAND} of ONet's threshold {ONET_THRESHOLD}.",
    ]
    ups = speedups(runs)
    if ups:
        lines += ["", "(e) vs (d), same photos, same process: " + "; ".join(ups) + "."]
    lines += [
        "",
        "The engine on the default runtime (ONNX files on OpenVINO) against these TensorFlow rows: "
        '"Engine before/after" (`bench.engine_ab`, each runtime in its own process).',
    ]
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=8, help="images per call for the batched runs")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N photos")
    parser.add_argument("--model", default="facenet", help="embedding model for Engine.analyze")
    parser.add_argument("--no-engine", action="store_true", help="skip the Engine rows")
    parser.add_argument("--engine-only", action="store_true", help="skip the package and FastMTCNN rows")
    parser.add_argument(
        "--with-onnx", action="store_true", help="also (e): the default runtime, in this same process"
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)

    folder = require_pairs_dir()
    load_before = load_average()
    paths, images = load_images(folder, args.limit)
    methods = [] if args.engine_only else detector_methods(images, args.batch)
    notes: list[str] = []
    decoded: list = []
    if not args.no_engine:
        runtimes = ENGINE_RUNTIMES + ((("(e)", "auto"),) if args.with_onnx else ())
        more, notes, decoded = engine_methods(paths, args.batch, args.model, runtimes)
        methods += more
    # Interleave: every method runs on the same chunk before the next chunk, so a busy neighbour
    # on a shared machine slows all rows alike instead of whichever ran at that moment.
    for start in tqdm(range(0, len(images), args.batch), desc="chunks", unit="chunk"):
        for method in methods:
            source = decoded if method.name.startswith(("(d)", "(e)")) else images
            method.run(list(source[start : start + args.batch]))
    command = "python bench/engine_throughput.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    body = render(methods, notes, command.strip(), load_before, load_average())
    print(body)
    if not args.no_write:
        write_section(HEADING, body)
        print("updated docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
