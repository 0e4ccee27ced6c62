"""Model migration benchmark -> docs/benchmarks.md "## Model migration".

1. Speed: the shared photos (deepface-pairs and face-recognition-examples) are analysed once with
   the source model; each is stored once in the object store and registered ``--copies`` times
   as an image with its faces, so the migration has a few hundred faces to re-embed. Then the
   migration runs in this process, batch after batch (``images.migration.run_batch``: the code
   the worker task runs, without the queue), followed by the recomputation of matches and
   clusters and a rollback. Faces/s is what one worker process does.
2. Crops: for every face, the target model's embedding from the stored crop (what is left when
   originals are deleted) against the one from the original: the distance as a share of the
   model's threshold (images.reembed.CROP_MODELS is decided on this).

Runs against the worktree's own database (``manage.py migrate`` first) in a throwaway
application, refuses to run while a migration is open, and leaves the active model as it was.

    .venv/bin/python -m bench.migration                    # facenet -> dlib, writes the docs
    .venv/bin/python -m bench.migration --copies 2 --no-write
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from pathlib import Path

import numpy as np

from bench.common import load_average, machine_summary, markdown_table, shared_dir, utc_now, write_section

HEADING = "## Model migration"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def photos() -> list[Path]:
    root = shared_dir() / "datasets"
    found = sorted((root / "deepface-pairs").glob("*.jpg"))
    examples = root / "face-recognition-examples"
    found += sorted(p for p in examples.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return found


def ingest(application, source: str, copies: int) -> tuple[int, int, list]:
    """Analyse each photo once; ``copies`` images of it with its faces. Returns (images, faces, samples)."""
    from facecore.draw import face_crop
    from facecore.engine import get_engine
    from images.models import Face, Image, ImageStatus
    from infra.storage import get_store

    engine = get_engine()
    store = get_store()
    images = faces = 0
    samples = []  # (decoded, engine face, crop bytes) for the crop comparison
    for path in photos():
        data = path.read_bytes()
        decoded = engine.decode(data)
        result = engine.analyze([decoded], model=source)[0]
        if not result.faces:
            continue
        key = f"bench-migration/{uuid.uuid4().hex}"
        store.put(key, data, "image/jpeg")
        samples += [(decoded, face, face_crop(decoded, face)) for face in result.faces]
        for _ in range(copies):
            image = Image.objects.create(
                application=application,
                status=ImageStatus.DONE,
                object_key=key,
                width=result.width,
                height=result.height,
            )
            Face.objects.bulk_create([face_row(application, image, f) for f in result.faces])
            images += 1
            faces += len(result.faces)
    return images, faces, samples


def face_row(application, image, f):
    from images.models import Face

    return Face(
        application=application,
        image=image,
        x_min=f.box.x_min,
        y_min=f.box.y_min,
        x_max=f.box.x_max,
        y_max=f.box.y_max,
        probability=float(f.probability),
        landmarks=f.to_dict()["landmarks"],
        embedding=f.embedding,
        model=f.model,
        quality={"score": 0.9, "reasons": []},
    )


def crop_distances(samples: list, model: str) -> np.ndarray:
    """Per face: L2 distance between ``model``'s embedding from the crop and from the original."""
    from facecore.detect import face_in_pixels
    from facecore.draw import face_in_crop
    from facecore.engine import get_engine

    engine = get_engine()
    embedder = engine.embedder(model)
    originals = [embedder.prepare(d.pixels, face_in_pixels(f, d)) for d, f, _ in samples]
    crops = [embedder.prepare(engine.decode(c).pixels, face_in_crop(f)) for _, f, c in samples]
    a, b = embedder.embed(np.stack(originals)), embedder.embed(np.stack(crops))
    return np.linalg.norm(a - b, axis=1)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", default="facenet")
    parser.add_argument("--target", default="dlib")
    parser.add_argument("--copies", type=int, default=4, help="images registered per photo")
    parser.add_argument("--batch", type=int, default=32, help="FACECORE_MIGRATION_BATCH_SIZE")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    setup_django()
    from django.conf import settings

    from images import migration
    from images.embedding_models import active_model, open_migration
    from recognition.models_info import model_info
    from recognition.recompute import recompute
    from tenants.models import Application

    if open_migration() is not None or active_model() != args.source:
        raise SystemExit(f"needs no open migration and {args.source} active (now {active_model()})")
    settings.FACECORE_MIGRATION_BATCH_SIZE = args.batch
    migration._send = lambda migration_id: None  # batches run here, one after another
    migration._announce = lambda model: None  # recomputed below, timed on its own
    application = Application.objects.create(name=f"bench-migration-{uuid.uuid4().hex[:8]}")
    try:
        images, faces, samples = ingest(application, args.source, args.copies)
        started = migration.start(args.target)
        batches = 0
        began = time.perf_counter()
        while migration.run_batch(started.id):
            batches += 1
        wall = time.perf_counter() - began
        done = migration.get(started.id)
        progress = migration.progress(done)
        recompute_s = timed(lambda: recompute(args.target))
        rollback_s = timed(lambda: migration.rollback(started.id))
        recompute(args.source)
        crop_rows = []
        for model in dict.fromkeys([args.source, args.target]):
            d = crop_distances(samples, model) / model_info(model).threshold
            crop_rows.append(
                [
                    f"`{model}`",
                    str(len(d)),
                    f"{np.median(d):.2f}",
                    f"{np.percentile(d, 95):.2f}",
                    f"{d.max():.2f}",
                ]
            )
    finally:
        application.delete()
    speed = markdown_table(
        [
            "faces",
            "images",
            "batches",
            "re-embed + switch (s)",
            "faces/s",
            "recompute matches+clusters (s)",
            "rollback (s)",
        ],
        [
            [
                str(faces),
                str(images),
                str(batches),
                f"{wall:.1f}",
                f"{progress.migrated / wall:.1f}",
                f"{recompute_s:.1f}",
                f"{rollback_s:.2f}",
            ]
        ],
    )
    crops = markdown_table(["model", "faces", "median", "p95", "max"], crop_rows)
    body = (
        f"`python -m bench.migration --source {args.source} --target {args.target} --copies {args.copies} "
        f"--batch {args.batch}` ({utc_now()}; {machine_summary()}; load average {load_average()}). "
        f"{args.source} -> {args.target}, one process running the worker task's batches back to back "
        "(originals from the local object folder, decoded once per image per batch); each photo of the "
        "shared datasets is registered as several images, so every face is re-embedded from a "
        "full decode of its original.\n\n"
        + speed
        + "\nRe-embedding from the stored crop (originals deleted) instead of the original: L2 distance "
        "between the two embeddings of each face, as a share of the model's threshold "
        "(images.reembed.CROP_MODELS).\n\n" + crops
    )
    print(body)
    if not args.no_write:
        write_section(HEADING, body)


if __name__ == "__main__":
    main()
