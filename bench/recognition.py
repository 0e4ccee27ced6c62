"""Recognition benchmark -> docs/benchmarks.md "## Recognition".

1. Accuracy on ../shared/datasets/deepface-pairs with the real engine: persons are the connected
   components of the pivot CSV's same-person pairs; one photo per person is enrolled, the rest
   are recognized (top-1 accuracy, nearest example), and the pivot pairs are verified at each
   model's shipped threshold.
2. Vector search: synthetic identities (default 10,000 x 10 samples, same-identity cosine about
   0.7) bulk-loaded with COPY into a throwaway database on the same PostgreSQL server, with the
   real HNSW index DDL (recognition migration) and the real query (recognition.search), queried
   with new samples; p50/p95 latency and recall@10 against exact search, per ef_search.

    .venv/bin/python -m bench.recognition                       # everything, writes the docs
    .venv/bin/python -m bench.recognition --skip-accuracy --faces 20000 --no-write
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from bench.common import load_average, machine_summary, markdown_table, pairs_dir, utc_now, write_section

HEADING = "## Recognition"
SAME_IDENTITY_COSINE = 0.7
RECALL_TARGET = 0.98
P95_TARGET_MS = 20.0
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


def synthetic(identities: int, per: int, dim: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, float]:
    """Unit vectors: ``per`` noisy samples around each random identity centre.

    sample = normalize(centre + sigma * n), n ~ N(0, I/dim); two samples of one identity then
    have cosine about 1 / (1 + sigma^2), set to SAME_IDENTITY_COSINE.
    """
    rng = np.random.default_rng(seed)
    sigma = (1 / SAME_IDENTITY_COSINE - 1) ** 0.5
    centres = rng.normal(size=(identities, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return centres, np.repeat(np.arange(identities), per), sigma


def samples_of(centres: np.ndarray, ids: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    dim = centres.shape[1]
    x = centres[ids] + sigma * rng.normal(size=(len(ids), dim)).astype(np.float32) / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def connect(dbname: str, autocommit: bool = True):
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname=dbname,
        autocommit=autocommit,
        cursor_factory=psycopg.ClientCursor,  # as Django: parameters inlined client-side
    )


SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE images_image (id uuid PRIMARY KEY, purpose varchar(16) NOT NULL);
CREATE TABLE images_face (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL,
    image_id uuid NOT NULL REFERENCES images_image (id),
    subject_id bigint NULL,
    cluster_id bigint NULL,
    model varchar(64) NOT NULL,
    embedding vector NULL
);
"""
"""The columns of images.models Face/Image that recognition.search reads, with the same types."""


def load(conn, model: str, vectors: np.ndarray, app_id: uuid.UUID) -> tuple[list[str], float]:
    """COPY one job image and one face per vector; returns the face ids (in order) and seconds."""
    start = time.perf_counter()
    image_ids = [uuid.uuid4() for _ in range(len(vectors))]
    face_ids = [str(uuid.uuid4()) for _ in range(len(vectors))]
    with conn.cursor() as cur:
        with cur.copy("COPY images_image (id, purpose) FROM STDIN") as copy:
            for image_id in image_ids:
                copy.write_row((image_id, "job"))
        buffer = io.StringIO()
        for face_id, image_id, v in zip(face_ids, image_ids, vectors, strict=True):
            literal = "[" + ",".join(f"{x:.7g}" for x in v) + "]"
            buffer.write(f"{face_id}\t{app_id}\t{image_id}\t{model}\t{literal}\n")
        with cur.copy("COPY images_face (id, application_id, image_id, model, embedding) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
    return face_ids, time.perf_counter() - start


def build_index(conn, model: str, dim: int) -> float:
    migration = importlib.import_module("recognition.migrations.0001_face_embedding_hnsw")
    start = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '2GB'")
        cur.execute("SET max_parallel_maintenance_workers = 1")
        # The migration's DDL, on the table's current name (0005 renamed api_face to images_face).
        cur.execute(migration.create(model, dim).replace(" ON api_face ", " ON images_face "))
        cur.execute("ANALYZE images_face; ANALYZE images_image")
    return time.perf_counter() - start


def run_queries(conn, sqls: list[tuple[str, list]], ef: int | None) -> tuple[list[float], list[list[str]]]:
    latencies, results = [], []
    with conn.cursor() as cur:
        for sql, params in sqls:
            start = time.perf_counter()
            with conn.transaction():
                if ef is None:
                    cur.execute("SET LOCAL enable_indexscan = off")
                else:
                    cur.execute(f"SET LOCAL hnsw.ef_search = {ef}")
                cur.execute(sql, params)
                rows = cur.fetchall()
            latencies.append((time.perf_counter() - start) * 1000)
            results.append([str(r[0]) for r in rows])
    return latencies, results


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def search(model: str, identities: int, per: int, n_queries: int, efs: list[int], exact_queries: int) -> dict:
    from recognition.models_info import model_info
    from recognition.search import nearest_query

    dim = model_info(model).dimension
    centres, ids, sigma = synthetic(identities, per, dim)
    rng = np.random.default_rng(2)
    data = samples_of(centres, ids, sigma, rng)
    query_ids = rng.integers(0, identities, size=n_queries)
    queries = samples_of(centres, query_ids, sigma, rng)
    measured_cos = float(
        np.mean(np.sum(samples_of(centres, ids[:2000:per], sigma, rng) * data[:2000:per], axis=1))
    )

    dbname = f"facecore_bench_{uuid.uuid4().hex[:8]}"
    admin = connect("postgres")
    admin.execute(f"CREATE DATABASE {dbname}")
    try:
        conn = connect(dbname)
        conn.execute(SCHEMA)
        app_id = uuid.uuid4()
        face_ids, load_s = load(conn, model, data, app_id)
        build_s = build_index(conn, model, dim)

        sqls = [nearest_query(app_id, model, q, k=10, scope="jobs") for q in queries]
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("EXPLAIN " + sqls[0][0], sqls[0][1])
            plan = "\n".join(r[0] for r in cur.fetchall())
            cur.execute("ROLLBACK")
        uses_index = f"face_embedding_{model}_hnsw" in plan

        truth = []
        for q in queries:
            top = np.argpartition(-(data @ q), 10)[:10]
            truth.append({face_ids[i] for i in top})

        run_queries(conn, sqls[:50], efs[0])  # warm the cache
        curve = []
        for ef in efs:
            latencies, results = run_queries(conn, sqls, ef)
            recall = statistics.fmean(len(set(r) & t) / 10 for r, t in zip(results, truth, strict=True))
            curve.append(
                {
                    "ef": ef,
                    "p50": percentile(latencies, 50),
                    "p95": percentile(latencies, 95),
                    "recall": recall,
                }
            )
            print(
                f"  {model} ef_search={ef}: p50 {curve[-1]['p50']:.2f} ms, p95 {curve[-1]['p95']:.2f} ms, recall@10 {recall:.4f}"
            )
        exact_lat, exact_res = run_queries(conn, sqls[:exact_queries], None)
        exact_recall = statistics.fmean(
            len(set(r) & t) / 10 for r, t in zip(exact_res, truth[:exact_queries], strict=True)
        )
        with conn.cursor() as cur:
            cur.execute(f"SELECT pg_size_pretty(pg_relation_size('face_embedding_{model}_hnsw'))")
            index_size = cur.fetchone()[0]
        conn.close()
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        admin.close()
    return {
        "model": model,
        "dim": dim,
        "faces": len(data),
        "identities": identities,
        "per": per,
        "queries": n_queries,
        "same_cos": measured_cos,
        "load_s": load_s,
        "build_s": build_s,
        "index_size": index_size,
        "uses_index": uses_index,
        "curve": curve,
        "exact_p50": percentile(exact_lat, 50),
        "exact_p95": percentile(exact_lat, 95),
        "exact_recall": exact_recall,
        "exact_queries": exact_queries,
    }


# --- report ------------------------------------------------------------------------------------


def pick_ef(curve: list[dict]) -> dict | None:
    ok = [c for c in curve if c["recall"] >= RECALL_TARGET and c["p95"] < P95_TARGET_MS]
    return ok[0] if ok else None


def report(acc: list[dict], searches: list[dict], shipped_ef: int) -> str:
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
    if not searches:
        out.append(
            'Vector search (recall and latency at 1M faces, one and 1,000 applications): "## Vector search" '
            "below (`make bench-search`)."
        )
    for s in searches:
        best = pick_ef(s["curve"])
        out += [
            f"### Vector search, {s['faces']:,} faces x {s['dim']}-d (`{s['model']}` index)",
            "",
            f"{s['identities']:,} synthetic identities x {s['per']} samples (same-identity cosine "
            f"{s['same_cos']:.2f}), one application; {s['queries']} queries, each a new sample of a random "
            "identity, k = 10, through `recognition.search.nearest_query` (HNSW m=16, ef_construction=64, "
            "the migration's DDL). Latency is per query from the client: BEGIN, SET LOCAL "
            "hnsw.ef_search, the query, COMMIT. Recall@10 is against exact search (numpy on the stored vectors). "
            f"COPY of the rows {s['load_s']:.0f} s; index build {s['build_s']:.0f} s ({s['index_size']}); "
            f"the planner {'uses' if s['uses_index'] else 'does NOT use'} the index for this query.",
            "",
            markdown_table(
                ["ef_search", "p50 ms", "p95 ms", "recall@10"],
                [
                    [str(c["ef"]), f"{c['p50']:.2f}", f"{c['p95']:.2f}", f"{c['recall']:.4f}"]
                    for c in s["curve"]
                ]
                + [
                    [
                        f"exact (no index, {s['exact_queries']} queries)",
                        f"{s['exact_p50']:.1f}",
                        f"{s['exact_p95']:.1f}",
                        f"{s['exact_recall']:.4f}",
                    ]
                ],
            ),
            (
                f"Targets (recall@10 >= {RECALL_TARGET}, p95 < {P95_TARGET_MS:g} ms) are first met at "
                f"ef_search = {best['ef']}; the shipped default `FACECORE_SEARCH_EF` is {shipped_ef}, headroom "
                "for the filters pgvector applies after the index scan (application, scope)."
                if best
                else f"No ef_search tried met both targets (recall@10 >= {RECALL_TARGET}, p95 < {P95_TARGET_MS:g} ms)."
            ),
            "",
        ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default="facenet,dlib", help="accuracy: embedding models to measure")
    parser.add_argument("--search-models", default="facenet,facenet512", help="search: indexes to measure")
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--per-identity", type=int, default=10)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--ef", default="10,20,40,64,100,150,200")
    parser.add_argument("--exact-queries", type=int, default=50)
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing docs")
    args = parser.parse_args(argv)

    setup_django()
    from django.conf import settings

    acc: list[dict] = []
    if not args.skip_accuracy:
        folder = pairs_dir()
        if not (folder / "face-recognition-pivot.csv").is_file():
            sys.exit(
                f"accuracy needs {folder}/face-recognition-pivot.csv (set FACECORE_SHARED_DIR or --skip-accuracy)"
            )
        from facecore.engine import get_engine

        engine = get_engine()
        for model in [m for m in args.models.split(",") if m]:
            print(f"accuracy: {model} ...", flush=True)
            acc.append(accuracy(model, engine, folder))
            a = acc[-1]
            print(
                f"  top-1 {a['top1']:.2%}, recognized {a['recognized']:.2%}, verification {a['verify']:.2%}"
            )
    searches: list[dict] = []
    if not args.skip_search:
        efs = [int(x) for x in args.ef.split(",") if x]
        for model in [m for m in args.search_models.split(",") if m]:
            print(f"search: {model}, {args.faces} faces ...", flush=True)
            searches.append(
                search(
                    model,
                    args.faces // args.per_identity,
                    args.per_identity,
                    args.queries,
                    efs,
                    args.exact_queries,
                )
            )
    body = report(acc, searches, settings.FACECORE_SEARCH_EF)
    if args.no_write:
        print(body)
    else:
        write_section(HEADING, body)
        print(f"wrote {HEADING!r} in docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
