"""Calibrate each model's distance threshold on the deepface-pairs verification CSVs.

Pipeline per image: EXIF-transpose, MTCNN (``mtcnn`` package) on a copy downscaled to max side 1024,
keep the largest face, map its box back to full resolution, then ``embedder.prepare`` + ``embed``.
Score of a pair: euclidean distance between the L2-normalized embeddings.

    .venv/bin/python bench/calibrate.py                  # all models, pivot + master, updates docs
    .venv/bin/python bench/calibrate.py --models facenet --no-write

Writes the "## Verification accuracy (face-recognition-pivot.csv)" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from facecore.embedders import MODEL_NAMES, get_embedder, similarity_from_distance  # noqa: E402
from facecore.fetch import fetch_model  # noqa: E402
from facecore.settings import default_models_dir  # noqa: E402
from facecore.types import LANDMARK_NAMES, Box, Face  # noqa: E402

HEADING = "## Verification accuracy (face-recognition-pivot.csv)"
DETECTION_MAX_SIDE = 1024
KEYPOINT_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


def shared_dir() -> Path:
    return Path(os.environ.get("FACECORE_SHARED_DIR", REPO.parent / "shared"))


def read_pairs(path: Path) -> list[tuple[str, str, bool]]:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    key = "decision" if "decision" in rows[0] else "Decision"
    return [(Path(r["file_x"]).name, Path(r["file_y"]).name, r[key].strip() == "Yes") for r in rows]


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def detect_largest_face(detector, image: np.ndarray) -> Face | None:
    """MTCNN on a copy with max side 1024; the largest face, mapped back to ``image`` pixels."""
    height, width = image.shape[:2]
    scale = min(1.0, DETECTION_MAX_SIDE / max(height, width))
    small = image
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))
    found = detector.detect_faces(small)
    if not found:
        return None
    best = max(found, key=lambda f: f["box"][2] * f["box"][3])
    x, y, w, h = (v / scale for v in best["box"])
    box = Box(max(0, round(x)), max(0, round(y)), min(width, round(x + w)), min(height, round(y + h)))
    points = best.get("keypoints", {})
    landmarks = {
        name: (points[k][0] / scale, points[k][1] / scale)
        for name, k in zip(LANDMARK_NAMES, KEYPOINT_NAMES, strict=True)
        if k in points
    }
    return Face(box=box, probability=float(best["confidence"]), landmarks=landmarks)


def best_threshold(distances: np.ndarray, same: np.ndarray) -> tuple[float, float, float, float]:
    """Threshold maximising accuracy ("same" when distance <= t): (t, accuracy, low, high).

    Every t in [low, high) scores the same; ``t`` is the midpoint (first best interval if several).
    """
    d = np.unique(distances)
    accuracies = np.array([accuracy_at(distances, same, t) for t in d])
    i = int(np.argmax(accuracies))
    low, high = float(d[i]), float(d[i + 1] if i + 1 < len(d) else d[i])
    return (low + high) / 2, float(accuracies[i]), low, high


def accuracy_at(distances: np.ndarray, same: np.ndarray, threshold: float) -> float:
    return float(np.mean((distances <= threshold) == same))


@dataclass
class Result:
    model: str
    csv: str
    pairs: int
    skipped: int
    shipped_threshold: float
    shipped_accuracy: float
    best_threshold: float
    best_accuracy: float
    best_low: float
    best_high: float
    same_mean: float
    diff_mean: float
    errors: list[str]
    embed_ms_per_face: float


def evaluate(model: str, embedder, faces: dict[str, tuple[np.ndarray, Face]], pairs, csv_name: str) -> Result:
    names = sorted({n for a, b, _ in pairs for n in (a, b)} & faces.keys())
    crops = np.stack([embedder.prepare(*faces[n]) for n in names])
    embedder.embed(crops[:2])  # warm-up: the first call traces the graph
    t0 = time.perf_counter()
    vectors = dict(zip(names, embedder.embed(crops), strict=True))
    ms = (time.perf_counter() - t0) * 1000 / len(names)
    usable = [(a, b, s) for a, b, s in pairs if a in vectors and b in vectors]
    distances = np.array([np.linalg.norm(vectors[a] - vectors[b]) for a, b, _ in usable])
    same = np.array([s for _, _, s in usable])
    threshold, best, low, high = best_threshold(distances, same)
    shipped = embedder.threshold
    # a pair whose image has no detected face counts as wrong
    n_total = len(pairs)
    correct = int(np.sum((distances <= shipped) == same))
    errors = [
        f"{a}/{b} ({'same' if s else 'diff'}, {d:.3f})"
        for (a, b, s), d in zip(usable, distances, strict=True)
        if (d <= shipped) != s
    ]
    return Result(
        model=model,
        csv=csv_name,
        pairs=n_total,
        skipped=n_total - len(usable),
        shipped_threshold=shipped,
        shipped_accuracy=correct / n_total,
        best_threshold=threshold,
        best_accuracy=best * len(usable) / n_total,
        best_low=low,
        best_high=high,
        same_mean=float(distances[same].mean()),
        diff_mean=float(distances[~same].mean()),
        errors=errors,
        embed_ms_per_face=ms,
    )


def render(results: list[Result], detector_note: str) -> str:
    lines = [
        HEADING,
        "",
        "Written by `bench/calibrate.py` (do not edit by hand). Pipeline: EXIF-transpose, `mtcnn` 1.0.0",
        f"`detect_faces` on a copy downscaled to max side {DETECTION_MAX_SIDE}, largest face, box mapped back",
        "to full resolution, then each model's own `prepare` + `embed`; score = euclidean distance between",
        'L2-normalized embeddings; "same person" when distance <= threshold. Best thresholds are picked on',
        "the same pairs they are scored on, so these numbers are optimistic. Similarity is",
        "`similarity_from_distance` (logistic, 0.5 at the threshold). embed ms/face: one warm batch of all",
        "the CSV's faces on the CPU (indicative only: the dev machine was shared with other jobs).",
        f"Measured {time.strftime('%Y-%m-%d')}. {detector_note}".rstrip(),
        "",
        "| model (pairs file) | pairs | shipped threshold | accuracy at shipped | best accuracy | best threshold range | mean dist same / diff | similarity at mean same / diff | embed ms/face |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        sim_same = similarity_from_distance(r.same_mean, r.shipped_threshold)
        sim_diff = similarity_from_distance(r.diff_mean, r.shipped_threshold)
        lines.append(
            f"| {r.model} ({r.csv}) | {r.pairs} | {r.shipped_threshold:.3f} | {100 * r.shipped_accuracy:.2f} % |"
            f" {100 * r.best_accuracy:.2f} % | {r.best_low:.3f} – {r.best_high:.3f} |"
            f" {r.same_mean:.3f} / {r.diff_mean:.3f} | {sim_same:.2f} / {sim_diff:.2f} | {r.embed_ms_per_face:.0f} |"
        )
    lines += ["", "Pairs wrong at the shipped threshold:", ""]
    for r in results:
        lines.append(f"- {r.model} ({r.csv}): {', '.join(r.errors) if r.errors else 'none'}")
    return "\n".join(lines) + "\n"


def write_section(doc: Path, section: str) -> None:
    """Replace (or append) only our section; other sections of the file are left as they are."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    start = text.find(HEADING)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + len(HEADING))
        end = len(text) if nxt < 0 else nxt + 1
        text = text[:start] + section + ("\n" + text[end:] if nxt >= 0 else "")
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=MODEL_NAMES)
    parser.add_argument("--models-dir", type=Path, default=default_models_dir())
    parser.add_argument("--data", type=Path, default=shared_dir() / "datasets" / "deepface-pairs")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone")
    parser.add_argument("--json", type=Path, help="also dump the results as JSON here")
    args = parser.parse_args(argv)

    csvs = {name: read_pairs(args.data / name) for name in ("face-recognition-pivot.csv", "master.csv")}
    names = sorted({n for pairs in csvs.values() for a, b, _ in pairs for n in (a, b)})

    from mtcnn import MTCNN

    detector = MTCNN()
    faces: dict[str, tuple[np.ndarray, Face]] = {}
    missing = []
    t0 = time.perf_counter()
    for n in names:
        image = load_rgb(args.data / n)
        face = detect_largest_face(detector, image)
        if face is None:
            missing.append(n)
        else:
            faces[n] = (image, face)
    print(f"detected {len(faces)}/{len(names)} images in {time.perf_counter() - t0:.1f}s; no face: {missing}")
    note = f"No face found in: {', '.join(missing)} (their pairs count as wrong)." if missing else ""

    results = []
    for model in args.models:
        fetch_model(model, args.models_dir, progress=True)
        embedder = get_embedder(model, args.models_dir)
        for csv_name, pairs in csvs.items():
            r = evaluate(model, embedder, faces, pairs, csv_name)
            results.append(r)
            print(
                f"{model:10s} {csv_name:28s} shipped t={r.shipped_threshold:.3f} acc={100 * r.shipped_accuracy:.2f}%"
                f" | best acc={100 * r.best_accuracy:.2f}% t={r.best_threshold:.3f} [{r.best_low:.3f}, {r.best_high:.3f}]"
                f" | mean same={r.same_mean:.3f} diff={r.diff_mean:.3f} | {r.embed_ms_per_face:.0f} ms/face"
            )
            for e in r.errors:
                print(f"    wrong: {e}")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))
    if not args.no_write:
        write_section(args.doc, render(results, note))
        print(f"updated {args.doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
