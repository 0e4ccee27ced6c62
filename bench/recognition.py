"""Recognition benchmark -> docs/benchmarks.md "## Recognition".

1. Accuracy on ../shared/datasets/deepface-pairs with the real engine: persons are the connected
   components of the pivot CSV's same-person pairs; one photo per person is enrolled, the rest
   are recognized (top-1 accuracy, nearest example), and the pivot pairs are verified at each
   model's shipped threshold.
Vector search has its own benchmark: bench/search.py (`make bench-search`).

    .venv/bin/python -m bench.recognition                       # everything, writes the docs
    .venv/bin/python -m bench.recognition --models facenet --no-write
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import load_average, machine_summary, markdown_table, pairs_dir, publish, utc_now

HEADING = "## Recognition"
VERIFY_TARGET = 0.995


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# --- 1. accuracy on the shared photos ----------------------------------------------------------


def read_pivot(folder: Path) -> list[tuple[str, str, bool]]:
    with (folder / "face-recognition-pivot.csv").open(newline="") as fh:
        return [
            (Path(r["file_x"]).name, Path(r["file_y"]).name, r["decision"] == "Yes")
            for r in csv.DictReader(fh)
        ]


def persons(pairs: list[tuple[str, str, bool]]) -> list[list[str]]:
    """Connected components of the same-person pairs (images only in 'No' pairs are singletons)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, same in pairs:
        find(a), find(b)
        if same:
            parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for name in parent:
        groups.setdefault(find(name), []).append(name)
    key = lambda n: (len(n), n)  # noqa: E731  (img2 before img10)
    return sorted((sorted(g, key=key) for g in groups.values()), key=lambda g: key(g[0]))


def embed_all(engine, folder: Path, names: list[str], model: str) -> dict[str, np.ndarray | None]:
    out: dict[str, np.ndarray | None] = {}
    for name in names:
        result = engine.analyze([(folder / name).read_bytes()], model=model, limit=1)[0]
        out[name] = np.asarray(result.faces[0].embedding) if result.faces else None
    return out


def accuracy(model: str, engine, folder: Path) -> dict:
    from recognition.models_info import model_info

    info = model_info(model)
    pairs = read_pivot(folder)
    groups = persons(pairs)
    start = time.perf_counter()
    vectors = embed_all(engine, folder, sorted({n for g in groups for n in g}), model)
    embed_s = time.perf_counter() - start

    correct_pairs = missing_pairs = 0
    wrong: list[str] = []
    for a, b, same in pairs:
        if vectors[a] is None or vectors[b] is None:
            missing_pairs += 1
            continue
        distance = float(np.linalg.norm(vectors[a] - vectors[b]))
        if info.same_person(distance) == same:
            correct_pairs += 1
        else:
            wrong.append(f"{a}/{b} ({'same' if same else 'diff'}, {distance:.3f})")

    gallery: list[tuple[int, np.ndarray]] = []
    queries: list[tuple[int, np.ndarray]] = []
    for pid, group in enumerate(groups):
        found = [vectors[n] for n in group if vectors[n] is not None]
        if found:
            gallery.append((pid, found[0]))
            queries += [(pid, v) for v in found[1:]]
    gallery_ids = np.array([pid for pid, _ in gallery])
    gallery_vecs = np.stack([v for _, v in gallery])
    top1 = recognized = 0
    for pid, v in queries:
        distances = np.linalg.norm(gallery_vecs - v, axis=1)
        best = int(np.argmin(distances))
        if gallery_ids[best] == pid:
            top1 += 1
            recognized += info.same_person(float(distances[best]))
    no_face = sorted(n for n, v in vectors.items() if v is None)
    return {
        "model": model,
        "threshold": info.threshold,
        "persons": len(groups),
        "enrolled": len(gallery),
        "queries": len(queries),
        "top1": top1 / max(1, len(queries)),
        "recognized": recognized / max(1, len(queries)),
        "pairs": len(pairs),
        "verify": correct_pairs / len(pairs),
        "verify_found": correct_pairs / max(1, len(pairs) - missing_pairs),
        "missing_pairs": missing_pairs,
        "wrong": wrong,
        "no_face": no_face,
        "embed_s": embed_s,
    }


# --- 2. vector search on synthetic identities --------------------------------------------------


def report(acc: list[dict]) -> str:
    out = [
        f"`make bench-recognition` (`.venv/bin/python -m bench.recognition`), {utc_now()}; "
        f"{machine_summary()}; load average at the end {load_average()} (the machine is shared, so latencies "
        "are noisy); PostgreSQL + pgvector from the embedded server unless DATABASE_URL is set.",
        "",
    ]
    if acc:
        out += [
            "### Accuracy on deepface-pairs",
            "",
            "Persons = connected components of the pivot CSV's same-person pairs; the first photo of each "
            "person is enrolled (singletons too, as distractors), every other photo is a query. *top-1*: the "
            "nearest example is the right person; *recognized*: and its distance is within the threshold "
            f"(similarity >= 0.5). Verification: the pivot pairs at the shipped threshold (target >= "
            f"{VERIFY_TARGET:.1%}). Photos go through the real engine (detection on max side 1024, largest face).",
            "",
        ]
        rows = [
            [
                f"`{a['model']}`",
                f"{a['threshold']:g}",
                f"{a['enrolled']} / {a['queries']}",
                f"{a['top1']:.2%}",
                f"{a['recognized']:.2%}",
                f"{a['verify']:.2%} ({round(a['verify'] * a['pairs'])}/{a['pairs']})",
                f"{a['verify_found']:.2%} ({a['pairs'] - a['missing_pairs']} pairs)",
                ", ".join(a["no_face"]) or "-",
            ]
            for a in acc
        ]
        out.append(
            markdown_table(
                [
                    "model",
                    "threshold (L2)",
                    "enrolled / queries",
                    "top-1",
                    "recognized",
                    "pivot verification",
                    "pairs with both faces found",
                    "no face found",
                ],
                rows,
            )
        )
        out += [
            f"- `{a['model']}` pairs wrong at the threshold: {', '.join(a['wrong']) or 'none'}" for a in acc
        ]
        out.append(
            "\nA pair with a photo where the engine finds no face counts as wrong in *pivot verification*."
        )
        out.append("")
    out.append(
        'Vector search (recall and latency at 1M faces, one and 1,000 applications): "## Vector search" '
        "below (`make bench-search`)."
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default="facenet,dlib", help="accuracy: embedding models to measure")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing docs")
    args = parser.parse_args(argv)

    setup_django()
    folder = pairs_dir()
    if not (folder / "face-recognition-pivot.csv").is_file():
        sys.exit(f"accuracy needs {folder}/face-recognition-pivot.csv (set FACECORE_SHARED_DIR)")
    from facecore.engine import get_engine

    engine = get_engine()
    acc: list[dict] = []
    for model in [m for m in args.models.split(",") if m]:
        print(f"accuracy: {model} ...", flush=True)
        acc.append(accuracy(model, engine, folder))
        a = acc[-1]
        print(f"  top-1 {a['top1']:.2%}, recognized {a['recognized']:.2%}, verification {a['verify']:.2%}")
    body = report(acc)
    publish(HEADING, body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
