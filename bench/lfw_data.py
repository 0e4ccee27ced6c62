"""lfw-dev through the real engine, once: faces, qualities and embeddings cached under ``var/cache/lfw``.

Data: ``$FACECORE_SHARED_DIR/datasets/lfw-dev`` (see its README): ``images/<Person>/<Person>_NNNN.jpg``
and ``pairs.tsv``. Every image is decoded and detected with ``Engine()`` (FastMTCNN, the service's
defaults); every face's box, landmarks, probability and ``facecore.quality`` score is kept, so the
dominant-face rule of bulk import can be measured without running the detector again. The labelled
face of an image is the one nearest the image centre (the dataset's convention).

Embeddings, per model, of the labelled face of every image: ``plain`` (the model's own ``prepare``) and
``flip`` (the same crop mirrored left-right). Degraded copies (``bench.accuracy.degradations``:
downscaled faces, camera-like small faces, blur, JPEG, dark, over-exposed) of the first photo of
``DEGRADED_PEOPLE`` people with two or more photos are detected and embedded the same way, so the
quality floor and the fair tier are fitted against LFW impostors too.

    FACECORE_MODELS_DIR=... .venv/bin/python -m bench.lfw_data --models facenet

Each model's file is written once and reused (``--refresh`` recomputes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import REPO, shared_dir

CACHE = REPO / "var" / "cache" / "lfw"
MODELS = ("facenet", "facenet512", "dlib")
DEGRADED_PEOPLE = 150
"""People (with >= 2 photos, the first in name order) whose first photo gets degraded copies."""
MATCH_IOU = 0.3
RECIPE = "lfw-v1"


def lfw_root() -> Path:
    return shared_dir() / "datasets" / "lfw-dev"


@dataclass(frozen=True)
class LfwImage:
    person: str
    name: str
    """``<Person>_NNNN.jpg``."""

    @property
    def key(self) -> str:
        return f"{self.person}/{self.name}"


def list_images(root: Path | None = None) -> list[LfwImage]:
    root = root or lfw_root()
    return [
        LfwImage(folder.name, path.name)
        for folder in sorted((root / "images").iterdir())
        if folder.is_dir()
        for path in sorted(folder.glob("*.jpg"))
    ]


def read_pairs(root: Path | None = None) -> list[dict]:
    root = root or lfw_root()
    lines = (root / "pairs.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line.strip()]
    for row in rows:
        row["fold"], row["same"] = int(row["fold"]), int(row["same"])
    return rows


def face_record(face, quality) -> dict:
    b = face.box
    return {
        "box": [b.x_min, b.y_min, b.x_max, b.y_max],
        "probability": float(face.probability),
        "landmarks": {k: [float(v[0]), float(v[1])] for k, v in face.landmarks.items()},
        "quality": quality.to_dict(),
    }


def to_face(record: dict):
    from facecore.types import Box, Face

    return Face(
        box=Box(*record["box"]),
        probability=record["probability"],
        landmarks={k: tuple(v) for k, v in record["landmarks"].items()},
    )


def centre_index(record: dict) -> int | None:
    """The face nearest the image centre (LFW's labelled person), None when no face."""
    faces, (w, h) = record["faces"], record["size"]
    if not faces:
        return None
    return min(
        range(len(faces)),
        key=lambda i: (
            ((faces[i]["box"][0] + faces[i]["box"][2]) / 2 - w / 2) ** 2
            + ((faces[i]["box"][1] + faces[i]["box"][3]) / 2 - h / 2) ** 2
        ),
    )


def _iou(a, b) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def degraded_sources(images: list[LfwImage]) -> list[LfwImage]:
    by_person: dict[str, list[LfwImage]] = {}
    for image in images:
        by_person.setdefault(image.person, []).append(image)
    repeat = [v[0] for _, v in sorted(by_person.items()) if len(v) >= 2]
    step = max(1, len(repeat) // DEGRADED_PEOPLE)
    return repeat[::step][:DEGRADED_PEOPLE]


def detect_all(refresh: bool = False) -> dict:
    """``{"images": [{key, person, size, faces: [...], centre}], "degraded": [...]}`` (cached)."""
    path = CACHE / "detections.json"
    if path.exists() and not refresh:
        return json.loads(path.read_text())
    from bench.accuracy import degradations
    from facecore.engine import Engine
    from facecore.quality import assess_face

    engine = Engine()
    root = lfw_root()
    images = list_images(root)
    out: dict = {"recipe": RECIPE, "images": [], "degraded": []}
    start = time.perf_counter()
    for n, image in enumerate(images):
        decoded = engine.decode((root / "images" / image.key).read_bytes())
        faces = engine.detect([decoded])[0].faces
        record = {
            "key": image.key,
            "person": image.person,
            "size": [decoded.width, decoded.height],
            "faces": [face_record(f, assess_face(f, decoded)) for f in faces],
        }
        record["centre"] = centre_index(record)
        out["images"].append(record)
        if n % 500 == 0:
            print(
                f"  detect {n}/{len(images)} {time.perf_counter() - start:.0f}s", file=sys.stderr, flush=True
            )
    by_key = {r["key"]: r for r in out["images"]}
    for n, image in enumerate(degraded_sources(images)):
        record = by_key[image.key]
        if record["centre"] is None:
            continue
        decoded = engine.decode((root / "images" / image.key).read_bytes())
        box = record["faces"][record["centre"]]["box"]
        for name, data, mapper in degradations(decoded.pixels, box[3] - box[1]):
            copy = engine.decode(data)
            expected = mapper(tuple(float(v) for v in box))
            found = [
                (f, _iou((f.box.x_min, f.box.y_min, f.box.x_max, f.box.y_max), expected))
                for f in engine.detect([copy])[0].faces
            ]
            best = max(found, key=lambda fi: fi[1], default=(None, 0.0))
            item = {
                "key": f"{image.key}@{name}",
                "source": image.key,
                "person": image.person,
                "variant": name,
            }
            item["face"] = face_record(best[0], assess_face(best[0], copy)) if best[1] > MATCH_IOU else None
            out["degraded"].append(item)
        if n % 25 == 0:
            print(f"  degraded {n} {time.perf_counter() - start:.0f}s", file=sys.stderr, flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out))
    print(f"detections: {time.perf_counter() - start:.0f}s -> {path}", file=sys.stderr)
    return out


NO_FLIP = ("dlib",)
"""Models embedded without the mirrored crop (dlib costs ~0.14 s a face on this 2-core machine)."""


def embed_all(model: str, detections: dict, refresh: bool = False) -> dict[str, np.ndarray]:
    """``{"plain", "flip", "deg_plain", "deg_flip"}`` (no ``flip`` arrays for ``NO_FLIP`` models):
    rows follow ``detections["images"]`` / ``["degraded"]``; rows of images without a face are zeros."""
    path = CACHE / f"embeddings-{model}.npz"
    if path.exists() and not refresh:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    from bench.accuracy import degradations
    from facecore.detect import face_in_pixels
    from facecore.engine import Engine

    engine = Engine()
    embedder = engine.embedder(model)
    root = lfw_root()
    start = time.perf_counter()

    def run(jobs, total: int) -> tuple[np.ndarray, np.ndarray]:
        plain = np.zeros((total, embedder.dimension), np.float32)
        flip = np.zeros_like(plain)
        batch: list[tuple[int, np.ndarray]] = []

        def flush() -> None:
            if not batch:
                return
            crops = np.stack([c for _, c in batch])
            rows = [i for i, _ in batch]
            if model in NO_FLIP:
                plain[rows] = embedder.embed(crops)
            else:
                both = embedder.embed(np.concatenate([crops, crops[:, :, ::-1]]))
                plain[rows], flip[rows] = both[: len(batch)], both[len(batch) :]
            batch.clear()

        for i, (decoded, record) in enumerate(jobs):
            if record is not None:
                batch.append((i, embedder.prepare(decoded.pixels, face_in_pixels(to_face(record), decoded))))
            if len(batch) >= 64:
                flush()
                if i % 640 < 64:
                    print(
                        f"  {model} {i}/{total} {time.perf_counter() - start:.0f}s",
                        file=sys.stderr,
                        flush=True,
                    )
        flush()
        return plain, flip

    def clean_jobs():
        for r in detections["images"]:
            decoded = engine.decode((root / "images" / r["key"]).read_bytes())
            yield decoded, (r["faces"][r["centre"]] if r["centre"] is not None else None)

    def degraded_jobs():
        by_key = {r["key"]: r for r in detections["images"]}
        wanted = {d["key"]: d["face"] for d in detections["degraded"]}
        for source in dict.fromkeys(d["source"] for d in detections["degraded"]):
            decoded = engine.decode((root / "images" / source).read_bytes())
            r = by_key[source]
            box = r["faces"][r["centre"]]["box"]
            for name, data, _ in degradations(decoded.pixels, box[3] - box[1]):
                key = f"{source}@{name}"
                if key in wanted:
                    yield (engine.decode(data) if wanted[key] else None), wanted[key]

    plain, flip = run(clean_jobs(), len(detections["images"]))
    deg_plain, deg_flip = run(degraded_jobs(), len(detections["degraded"]))
    arrays = {"plain": plain, "flip": flip, "deg_plain": deg_plain, "deg_flip": deg_flip}
    if model in NO_FLIP:
        arrays = {"plain": plain, "deg_plain": deg_plain}
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    print(f"{model}: {time.perf_counter() - start:.0f}s -> {path}", file=sys.stderr)
    return arrays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--refresh", action="store_true")
    args = parser.parse_args(argv)
    detections = detect_all(args.refresh)
    for model in args.models:
        embed_all(model, detections, args.refresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
