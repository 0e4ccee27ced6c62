"""Recognize's decision step with a gallery of 1,000 subjects, before and after subject templates ->
docs/benchmarks.md "## Recognize with 1,000 subjects".

A throwaway database on the embedded PostgreSQL server (migrated like production) holds one
application with ``SUBJECTS`` lfw-dev people as subjects, two example faces each (their real facenet
embeddings and quality scores from ``bench.lfw_data``'s cache). For ``PROBES`` other photos of those
people and strangers, the time of ``recognition.predictions.subject_predictions`` (what recognize runs
per face after the engine: the vector search, the subjects' templates, the verdict) is compared with
the code it replaced (``before``: the nearest example per subject, one search). The engine's own time
(decode, detect, embed) does not change and is not measured here (see "Service throughput").

    FACECORE_MODELS_DIR=... .venv/bin/python -m bench.recognize_latency [--no-write]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from dataclasses import dataclass

import numpy as np

from bench import lfw_data
from bench.common import load_average, machine_summary, markdown_table, publish, utc_now
from bench.review_pages import setup_django
from bench.vectors import percentile

HEADING = "## Recognize with 1,000 subjects"
SUBJECTS = 1000
PROBES = 300
RUNS = 2


def before(face, prediction_count: int = 1) -> list[dict]:
    """issue 14's ``subject_predictions``: the nearest example of each subject, one search."""
    from recognition import decisions, rejections
    from recognition.models import Subject
    from recognition.search import nearest

    best: dict[int, tuple[float, float | None]] = {}
    excluded = rejections.excluded_subjects([face.id])
    found = nearest(
        face.application_id, face.model, face.embedding, k=20, scope="subjects", exclude_face_ids=[face.id],
        exclude_subject_ids=excluded,
    )  # fmt: skip
    for n in found:
        if n.subject_id not in best and decisions.usable(face.model, n.quality):
            best[n.subject_id] = (n.distance, n.quality)
    ranked = sorted(best.items(), key=lambda item: item[1][0])[:prediction_count]
    names = dict(Subject.objects.filter(id__in=[sid for sid, _ in ranked]).values_list("id", "name"))
    return [
        {"subject": names[sid], "verdict": decisions.decide(face.model, d, face.quality, q).verdict}
        for sid, (d, q) in ranked
    ]


@dataclass
class Gallery:
    """lfw-dev's cached faces and facenet embeddings, and the people chosen as subjects."""

    images: list[dict]
    arrays: dict[str, np.ndarray]
    rows_of: dict[str, list[int]]
    people: list[str]
    """People with two or more photos (their first two are examples, the rest probes)."""
    singles: list[str]
    chosen: list[str]
    """``people`` plus single-photo people up to ``SUBJECTS``."""


def gallery(subjects: int = SUBJECTS) -> Gallery:
    detections = lfw_data.detect_all()
    arrays = lfw_data.embed_all("facenet", detections)
    images = detections["images"]
    rows_of: dict[str, list[int]] = {}
    for i, r in enumerate(images):
        rows_of.setdefault(r["person"], []).append(i)
    people = sorted(p for p, rows in rows_of.items() if len(rows) >= 2)
    singles = sorted(p for p, rows in rows_of.items() if len(rows) == 1)
    rng = np.random.default_rng(0)
    chosen = list(people) + list(rng.choice(singles, subjects - len(people), replace=False))
    return Gallery(images, arrays, rows_of, people, singles, chosen)


def enrol(app, g: Gallery) -> list:
    """One subject per chosen person in ``app``, with up to two example faces each (bulk insert,
    real embeddings and qualities; no engine, no object store)."""
    from images.models import Face, Image
    from recognition.models import Subject

    faces = []
    for person in g.chosen:
        subject = Subject.objects.create(application=app, name=person)
        for row in g.rows_of[person][:2]:
            image = Image.objects.create(
                application=app, purpose="example", status="done", object_key=f"x/{uuid.uuid4()}"
            )
            r = g.images[row]
            face = r["faces"][r["centre"]]
            x0, y0, x1, y1 = face["box"]
            faces.append(
                Face(
                    application=app, image=image, x_min=x0, y_min=y0, x_max=x1, y_max=y1,
                    probability=face["probability"], embedding=g.arrays["plain"][row], model="facenet",
                    subject=subject, quality=face["quality"],
                )
            )  # fmt: skip
    Face.objects.bulk_create(faces)
    return faces


def run() -> dict:
    from django.db import connection
    from django.test.utils import setup_test_environment

    from images.models import Face
    from recognition.predictions import subject_predictions
    from tenants.models import Application

    g = gallery()
    setup_test_environment()
    name = f"facecore_bench_recognize_{uuid.uuid4().hex[:8]}"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        app = Application.objects.create(name="bench-recognize")
        faces = enrol(app, g)
        probe_rows = [g.rows_of[p][2] for p in g.people if len(g.rows_of[p]) > 2][: PROBES // 2]
        probe_rows += [g.rows_of[p][0] for p in g.singles if p not in g.chosen][: PROBES - len(probe_rows)]
        probes = [
            Face(
                id=uuid.uuid4(),
                application=app,
                embedding=g.arrays["plain"][row],
                model="facenet",
                quality=g.images[row]["faces"][g.images[row]["centre"]]["quality"],
            )  # fmt: skip
            for row in probe_rows
        ]
        times: dict[str, list[float]] = {"before": [], "after": []}
        for probe in probes[:20]:  # warm-up
            before(probe)
            subject_predictions(probe, 1)
        for _ in range(RUNS):
            for probe in probes:
                for label, fn in (("before", before), ("after", subject_predictions)):
                    start = time.perf_counter()
                    fn(probe, 1)
                    times[label].append((time.perf_counter() - start) * 1000)
        return {
            "faces": len(faces),
            "probes": len(probes),
            **{
                k: {"p50": percentile(v, 50), "p95": percentile(v, 95), "n": len(v)} for k, v in times.items()
            },
        }
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as objects:
        setup_django(objects)
        result = run()
    print(json.dumps(result))
    rows = [
        [label, f"{result[key]['p50']:.1f}", f"{result[key]['p95']:.1f}", str(result[key]["n"])]
        for label, key in (
            ("before: nearest example per subject, one search", "before"),
            ("after: subject templates, runner-up margin", "after"),
        )
    ]
    body = (
        f"Measured {utc_now()} on {machine_summary()}; load {load_average()}. `bench/recognize_latency.py`: "
        f"{SUBJECTS:,} subjects ({result['faces']:,} example faces, real facenet embeddings of lfw-dev), "
        f"{result['probes']} probes (half enrolled people's other photos, half strangers), {RUNS} runs, "
        "before and after taking turns per probe; embedded PostgreSQL (exact search below "
        "`FACECORE_SEARCH_EXACT_MAX` faces). The step recognize adds per face after the engine:\n\n"
        + markdown_table(["decision step", "p50 ms", "p95 ms", "calls"], rows)
    )
    publish(HEADING, body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
