"""Verification accuracy under the quality-aware decision rule, on held-apart persons -> markdown.

Data (``$FACECORE_SHARED_DIR``, default ``<repo>/../shared``):

* ``datasets/deepface-pairs``: persons are the connected components of the same-person pairs of
  ``face-recognition-pivot.csv`` and ``master.csv`` (13 people, 61 photos; checked by eye). Also
  ``couple.jpg`` and ``selfie-many-people.jpg``, labelled by eye (``GROUP_PERSONS``).
* ``datasets/face-recognition-examples``: ``labels.csv``; group photos are labelled by eye
  because the file's left-to-right order is wrong for two of them (``GROUP_PERSONS``).
* Faces nobody labelled (background people, a child, detector false positives) are "unknown":
  each is a different person from every labelled one, never compared with each other.
* Degraded copies of the largest labelled face of every photo (``DEGRADATIONS``): downscaled so
  the face box is 30-120 px (pasted on a grey canvas), the same at 40-100 px "as a camera gives
  it" (0.8 px blur, noise, JPEG q70), gaussian blur (1.5/3/5 % of the face height), JPEG q10/q5,
  darker (x0.3, x0.12 with noise) and overexposed (x1.7+30, x2.5+60).

Pipeline: the real engine (``Engine()``: decode, FastMTCNN, each model's ``prepare`` + ``embed``),
the largest face (degraded copies: the detected face overlapping the expected box), and
``facecore.quality.assess_face``. Pairs: every two clean faces (not two unknowns; same-person
pairs from the same original frame are dropped) and every degraded face against every clean face
from another frame. Score: ``d / t``, the L2 distance over the model's threshold; fusions average
``d / t`` of two or three models.

Rule (``facecore.quality.MatchRule``): ``q = min(quality of both faces)``; ``q < floor`` ->
uncertain; the tier is good when ``q >= good_quality`` else fair. Fitted on training persons:
``accept_good = (closest impostor pair above the floor) - delta``, ``accept_fair = accept_good -
FAIR_STRICTER``, and each tier's reject edge is the smallest ``d/t`` (step 0.01) keeping training
false rejects among decided pairs <= ``FR_TRAIN``. Protocol: leave two persons out, for every
pair of labelled persons X, Y: fit on the pairs of the other persons (no unknown faces), test on
X-Y impostor pairs; X's genuine pairs and X-versus-unknown pairs are tested once, in fold
(X, next person). ``delta`` per model is the smallest multiple of 0.02 with no held-apart false
accept, plus one step of safety; the shipped rule is that delta fitted on every labelled person.

    .venv/bin/python -m bench.accuracy                      # all models; embeddings cached
    .venv/bin/python -m bench.accuracy --refresh --models dlib facenet512
    .venv/bin/python -m bench.accuracy --json bench/out/accuracy.json

The cache (faces, qualities, embeddings) lives in ``bench/out/`` (gitignored).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from bench.calibrate import read_pairs
from bench.common import (
    REPO,
    load_average,
    machine_summary,
    markdown_table,
    shared_dir,
    utc_now,
    write_section,
)
from bench.recognition import persons as same_person_components
from facecore.quality import MATCH_RULES, MatchRule, assess_face
from facecore.types import Face

MODELS = ("facenet", "facenet512", "dlib")
FUSIONS = {"facenet512+dlib": ("facenet512", "dlib"), "all three": ("facenet", "facenet512", "dlib")}
CACHE_DIR = REPO / "bench" / "out"
RULE_SECTION = "# --- decision rule"
"""Marker in facecore/quality.py: measurement code above it is part of the cache key, the rule is not."""
RECIPE_VERSION = "accuracy-v1"
"""Bump when the photos, labels or degradations change (invalidates the cache)."""

DEEPFACE = "deepface-pairs"
EXAMPLES = "face-recognition-examples"
GROUP_PERSONS: dict[str, list[str | None]] = {
    # faces from left to right (by box x_min); None = unknown. Checked by eye on the crops.
    f"{DEEPFACE}/couple.jpg": ["@img1.jpg", "brad_pitt"],
    f"{DEEPFACE}/selfie-many-people.jpg": [None, "@img1.jpg", None, "brad_pitt"],
    f"{EXAMPLES}/test-obama_and_biden.jpg": ["joe_biden", "barack_obama", None],  # labels.csv: reversed
    f"{EXAMPLES}/test-kit_with_rose.jpg": ["rose_leslie", "kit_harington"],  # labels.csv: reversed
    f"{EXAMPLES}/two_people.jpg": ["barack_obama", "joe_biden"],
}
"""``@imgN.jpg`` means "the deepface person whose component holds imgN.jpg" (img1: the same actress)."""
SKIP = {f"{DEEPFACE}/img11_reflection.jpg"}
"""img11 plus its mirror image: a near-duplicate of img11."""
SAME_FRAME = (
    {
        f"{EXAMPLES}/obama-240p.jpg",
        f"{EXAMPLES}/obama-480p.jpg",
        f"{EXAMPLES}/obama-720p.jpg",
        f"{EXAMPLES}/obama-1080p.jpg",
    },
    {f"{EXAMPLES}/obama2.jpg", f"{EXAMPLES}/test-32bit.png"},
    {
        f"{EXAMPLES}/obama.jpg",
        f"{EXAMPLES}/test-obama_partial_face.jpg",
        f"{EXAMPLES}/test-obama_partial_face2.jpg",
    },
)
"""Crops or rescales of one photo: their same-person pairs are not independent evidence."""

SIZES = (30, 40, 50, 60, 80, 100, 120)
CAMERA_SIZES = (40, 60, 80, 100)
BLURS = (0.015, 0.03, 0.05)
JPEG_QUALITIES = (10, 5)
LIGHT = {
    "dark0.3": (0.3, 0.0, 2.0),
    "dark0.12": (0.12, 0.0, 2.0),
    "bright1.7": (1.7, 30.0, 0.0),
    "bright2.5": (2.5, 60.0, 0.0),
}
"""name: (gain, offset, noise std) applied to the RGB values."""
CANVAS_SIDE = 800
MATCH_IOU = 0.3

QUALITY_FLOOR = 0.05
GOOD_QUALITY = 0.5
FAIR_STRICTER = 0.04
FR_TRAIN = 0.005
DELTA_STEP = 0.02
DELTA_MAX = 0.30
REJECT_GRID = np.round(np.arange(0.90, 1.61, 0.01), 2)
SIZE_BANDS = ((0, 40), (40, 60), (60, 80), (80, 120), (120, 200), (200, 100_000))


# --- labelled photos -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    key: str
    """``<dataset>/<file>``."""
    path: Path
    persons: tuple[str | None, ...]
    """One name per face left to right for group photos; else one name for the largest face."""
    group: bool


def frame_of(key: str) -> str:
    for i, frame in enumerate(SAME_FRAME):
        if key in frame:
            return f"frame{i}"
    return key


def labelled_photos(root: Path) -> list[Photo]:
    """Every photo we can label, with its persons (see the module docstring)."""
    folder = root / "datasets" / DEEPFACE
    pairs = read_pairs(folder / "face-recognition-pivot.csv") + read_pairs(folder / "master.csv")
    component = {name: f"deepface:{group[0]}" for group in same_person_components(pairs) for name in group}

    def resolve(name: str | None) -> str | None:
        return component[name[1:]] if name and name.startswith("@") else name

    photos = [
        Photo(f"{DEEPFACE}/{name}", folder / name, (person,), False)
        for name, person in sorted(component.items(), key=lambda kv: (len(kv[0]), kv[0]))
    ]
    examples = root / "datasets" / EXAMPLES
    with (examples / "labels.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            key = f"{EXAMPLES}/{row['file']}"
            if key not in GROUP_PERSONS:
                photos.append(Photo(key, examples / row["file"], (row["persons"].strip(),), False))
    for key, names in GROUP_PERSONS.items():
        photos.append(Photo(key, root / "datasets" / key, tuple(resolve(n) for n in names), True))
    return [p for p in photos if p.key not in SKIP]


def face_persons(photo: Photo, faces: list[Face]) -> list[str | None]:
    """Person per detected face (faces largest first, as the engine returns them)."""
    if not photo.group:
        return [photo.persons[0]] + [None] * (len(faces) - 1)
    largest = sorted(range(len(faces)), key=lambda i: -faces[i].box.area)[: len(photo.persons)]
    out: list[str | None] = [None] * len(faces)
    for i, name in zip(sorted(largest, key=lambda i: faces[i].box.x_min), photo.persons, strict=False):
        out[i] = name
    return out


# --- degraded copies -----------------------------------------------------------------------------


def _jpeg(image: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _on_canvas(small: Image.Image) -> tuple[Image.Image, tuple[int, int]]:
    width, height = max(CANVAS_SIDE, small.width), max(CANVAS_SIDE, small.height)
    canvas = Image.new("RGB", (width, height), (128, 128, 128))
    offset = ((width - small.width) // 2, (height - small.height) // 2)
    canvas.paste(small, offset)
    return canvas, offset


Degraded = tuple[str, bytes, Callable[[tuple[float, float, float, float]], tuple[float, float, float, float]]]


def degradations(pixels: np.ndarray, face_height: float) -> Iterator[Degraded]:
    """(name, encoded image, box mapper) for every degraded copy of a photo (working-image pixels)."""
    image = Image.fromarray(pixels)

    def scaled(target: int, camera: bool, rng: np.random.Generator) -> tuple[bytes, Callable] | None:
        factor = target / face_height
        if factor >= 0.95:
            return None
        small = image.resize(
            (max(1, round(image.width * factor)), max(1, round(image.height * factor))), Image.LANCZOS
        )
        quality = 92
        if camera:
            small = small.filter(ImageFilter.GaussianBlur(0.8))
            noisy = np.asarray(small, np.float32) + rng.normal(0, 3.0, (small.height, small.width, 3))
            small = Image.fromarray(np.clip(noisy, 0, 255).round().astype(np.uint8))
            quality = 70
        fx, fy = small.width / image.width, small.height / image.height
        canvas, (ox, oy) = _on_canvas(small)
        return _jpeg(canvas, quality), lambda b: (
            b[0] * fx + ox,
            b[1] * fy + oy,
            b[2] * fx + ox,
            b[3] * fy + oy,
        )

    same = lambda b: b  # noqa: E731
    for target in SIZES:
        made = scaled(target, False, np.random.default_rng(0))
        if made:
            yield f"size{target}", made[0], made[1]
    rng = np.random.default_rng(1)
    for target in CAMERA_SIZES:
        made = scaled(target, True, rng)
        if made:
            yield f"camera{target}", made[0], made[1]
    for fraction in BLURS:
        yield f"blur{fraction}", _jpeg(image.filter(ImageFilter.GaussianBlur(fraction * face_height))), same
    for quality in JPEG_QUALITIES:
        yield f"jpeg{quality}", _jpeg(image, quality), same
    rng = np.random.default_rng(0)
    values = np.asarray(image, np.float32)
    for name, (gain, offset, noise) in LIGHT.items():
        x = values * gain + offset
        if noise:
            x = x + rng.normal(0, noise, x.shape)
        yield name, _jpeg(Image.fromarray(np.clip(x, 0, 255).round().astype(np.uint8))), same


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


# --- collection (engine) -------------------------------------------------------------------------


@dataclass
class Sample:
    """One face (or one degraded copy whose face was not found: ``detected`` False)."""

    key: str
    dataset: str
    source: str
    """The clean photo's key."""
    variant: str
    """``clean`` or a degradation name."""
    person: str | None
    """None: unknown."""
    detected: bool
    quality: dict | None = None
    row: int = -1
    """Row of the embedding matrices."""


def collect(photos: list[Photo], models: tuple[str, ...]) -> tuple[list[Sample], dict[str, np.ndarray], dict]:
    """Run the engine on every photo and degraded copy; return samples, embeddings, thresholds."""
    from facecore.detect import face_in_pixels
    from facecore.engine import Engine

    engine = Engine()
    embedders = {m: engine.embedder(m) for m in models}
    samples: list[Sample] = []
    pending: dict[str, list[np.ndarray]] = {m: [] for m in models}
    vectors: dict[str, list[np.ndarray]] = {m: [] for m in models}
    quality_ms: list[float] = []

    def flush() -> None:
        for m, crops in pending.items():
            if crops:
                vectors[m].append(embedders[m].embed(np.stack(crops)))
                crops.clear()

    def add(sample: Sample, face: Face | None, decoded) -> None:
        if face is not None:
            start = time.perf_counter()
            sample.quality = assess_face(face, decoded).to_dict()
            quality_ms.append((time.perf_counter() - start) * 1000)
            sample.row = sum(len(v) for v in vectors[models[0]]) + len(pending[models[0]])
            in_pixels = face_in_pixels(face, decoded)
            for m in models:
                pending[m].append(embedders[m].prepare(decoded.pixels, in_pixels))
            if len(pending[models[0]]) >= 64:
                flush()
        samples.append(sample)

    start = time.perf_counter()
    for n, photo in enumerate(photos):
        decoded = engine.decode(photo.path.read_bytes())
        faces = engine.detect([decoded])[0].faces
        dataset = photo.key.split("/")[0]
        for i, (face, person) in enumerate(zip(faces, face_persons(photo, faces), strict=True)):
            add(Sample(f"{photo.key}#{i}", dataset, photo.key, "clean", person, True), face, decoded)
        if not faces or face_persons(photo, faces)[0] is None:
            continue
        sx, sy = decoded.pixels_scale
        b = faces[0].box
        box = (b.x_min / sx, b.y_min / sy, b.x_max / sx, b.y_max / sy)
        person = face_persons(photo, faces)[0]
        for name, data, mapper in degradations(decoded.pixels, box[3] - box[1]):
            copy = engine.decode(data)
            expected = mapper(box)
            found = [
                (f, _iou((f.box.x_min, f.box.y_min, f.box.x_max, f.box.y_max), expected))
                for f in engine.detect([copy])[0].faces
            ]
            best = max(found, key=lambda fi: fi[1], default=(None, 0.0))
            face = best[0] if best[1] > MATCH_IOU else None
            add(Sample(f"{photo.key}@{name}", dataset, photo.key, name, person, face is not None), face, copy)
        print(
            f"  [{n + 1}/{len(photos)}] {photo.key}: {len(samples)} samples, {time.perf_counter() - start:.0f}s",
            file=sys.stderr,
            flush=True,
        )
    flush()
    matrices = {m: np.concatenate(v).astype(np.float32) for m, v in vectors.items()}
    info = {
        "thresholds": {m: float(e.threshold) for m, e in embedders.items()},
        "quality_ms_mean": float(np.mean(quality_ms)),
        "quality_ms_p95": float(np.percentile(quality_ms, 95)),
        "collect_s": time.perf_counter() - start,
    }
    return samples, matrices, info


def cache_key(photos: list[Photo], models: tuple[str, ...]) -> str:
    h = hashlib.sha256(RECIPE_VERSION.encode())
    for p in photos:
        h.update(f"{p.key}:{p.path.stat().st_size}:{p.persons}".encode())
    h.update(",".join(models).encode())
    for module in ("facecore/quality.py", "facecore/detect.py", "facecore/decode.py"):
        text = (REPO / module).read_text()
        h.update(text.split(RULE_SECTION)[0].encode())  # the rule's constants do not change the samples
    return h.hexdigest()[:16]


def load_or_collect(
    photos: list[Photo], models: tuple[str, ...], refresh: bool
) -> tuple[list[Sample], dict, dict]:
    key = cache_key(photos, models)
    json_path, npz_path = CACHE_DIR / f"accuracy-{key}.json", CACHE_DIR / f"accuracy-{key}.npz"
    if not refresh and json_path.exists() and npz_path.exists():
        meta = json.loads(json_path.read_text())
        with np.load(npz_path) as z:
            matrices = {m: z[m] for m in models}
        print(f"cached embeddings: {npz_path}", file=sys.stderr)
        return [Sample(**s) for s in meta["samples"]], matrices, meta["info"]
    samples, matrices, info = collect(photos, models)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({"samples": [asdict(s) for s in samples], "info": info}))
    np.savez(npz_path, **matrices)
    return samples, matrices, info


# --- pairs -----------------------------------------------------------------------------------------


@dataclass
class Pairs:
    a: np.ndarray
    """Index into samples (the probe: degraded when one side is)."""
    b: np.ndarray
    same: np.ndarray
    pa: np.ndarray
    """Person id of each side; ids of unknown faces are >= ``n_known``."""
    pb: np.ndarray
    n_known: int
    q: np.ndarray
    """min(quality score of both faces)."""
    eff: np.ndarray
    """min(effective face height, px) of both faces."""
    variant: np.ndarray
    datasets: np.ndarray
    """``deepface-pairs``, ``face-recognition-examples`` or ``cross`` (one face from each)."""
    d: dict[str, np.ndarray]
    """Relative distance d / t per model and fusion."""


def build_pairs(
    samples: list[Sample], matrices: dict[str, np.ndarray], thresholds: dict[str, float]
) -> Pairs:
    found = [i for i, s in enumerate(samples) if s.detected]
    clean = [i for i in found if samples[i].variant == "clean"]
    degraded = [i for i in found if samples[i].variant != "clean"]
    names = sorted({s.person for s in samples if s.person})
    ids = {n: k for k, n in enumerate(names)}
    pid = [ids[s.person] if s.person else len(names) + i for i, s in enumerate(samples)]
    frame = [frame_of(s.source) for s in samples]
    rows: list[tuple[int, int]] = []
    for k, i in enumerate(clean):
        for j in clean[k + 1 :]:
            if samples[i].person is None and samples[j].person is None:
                continue
            if frame[i] == frame[j] and (pid[i] == pid[j] or samples[i].source != samples[j].source):
                continue
            rows.append((i, j))
    rows += [(i, j) for i in degraded for j in clean if frame[j] != frame[i]]
    a = np.array([r[0] for r in rows])
    b = np.array([r[1] for r in rows])
    pid_arr = np.array(pid)
    score = np.array([s.quality["score"] if s.quality else 0.0 for s in samples])
    eff = np.array([s.quality["effective_height_px"] if s.quality else 0.0 for s in samples])
    row = np.array([s.row for s in samples])
    d = {}
    for m, e in matrices.items():
        d[m] = (
            np.concatenate(
                [
                    np.linalg.norm(e[row[a[k : k + 20_000]]] - e[row[b[k : k + 20_000]]], axis=1)
                    for k in range(0, len(a), 20_000)
                ]
            )
            / thresholds[m]
        )
    for name, parts in FUSIONS.items():
        if all(p in d for p in parts):
            d[name] = np.mean([d[p] for p in parts], axis=0)
    return Pairs(
        a=a,
        b=b,
        same=pid_arr[a] == pid_arr[b],
        pa=pid_arr[a],
        pb=pid_arr[b],
        n_known=len(names),
        q=np.minimum(score[a], score[b]),
        eff=np.minimum(eff[a], eff[b]),
        variant=np.array([samples[i].variant for i in a]),
        datasets=np.array(
            [samples[i].dataset if samples[i].dataset == samples[j].dataset else "cross" for i, j in rows]
        ),
        d=d,
    )


# --- the rule, fitted and applied ----------------------------------------------------------------

REJECT, ACCEPT, BAND, LOW = 0, 1, 2, 3


def _reject_edge(genuine: np.ndarray, accept: float) -> float:
    for edge in REJECT_GRID:
        if edge < accept:
            continue
        rejected = int((genuine > edge).sum())
        decided = int((genuine <= accept).sum()) + rejected
        if decided == 0 or rejected / decided <= FR_TRAIN:
            return float(edge)
    return float(REJECT_GRID[-1])


def fit_rule(d: np.ndarray, same: np.ndarray, q: np.ndarray, delta: float) -> MatchRule:
    """The rule's edges from training pairs (see the module docstring)."""
    ok = q >= QUALITY_FLOOR
    accept_good = float(d[ok & ~same].min()) - delta
    accept_fair = accept_good - FAIR_STRICTER
    good, fair = ok & (q >= GOOD_QUALITY), ok & (q < GOOD_QUALITY)
    reject_good = _reject_edge(d[good & same], accept_good)
    reject_fair = _reject_edge(d[fair & same], accept_fair) if (fair & same).any() else reject_good
    return MatchRule(
        QUALITY_FLOOR, GOOD_QUALITY, round(accept_good, 3), round(accept_fair, 3), reject_good, reject_fair
    )


def apply_rule(rule: MatchRule, d: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Vectorised ``MatchRule.decide``: REJECT, ACCEPT, BAND or LOW per pair."""
    good = q >= rule.good_quality
    accept = np.where(good, rule.accept_good, rule.accept_fair)
    reject = np.where(good, rule.reject_good, rule.reject_fair)
    out = np.full(len(d), BAND)
    out[d > reject] = REJECT
    out[d <= accept] = ACCEPT
    out[q < rule.quality_floor] = LOW
    return out


def held_apart(p: Pairs, d: np.ndarray, delta: float) -> tuple[np.ndarray, list[MatchRule]]:
    """Leave-two-persons-out decisions for every pair (-1: pair never tested)."""
    known = p.pa < p.n_known, p.pb < p.n_known
    decisions = np.full(len(d), -1)
    rules = []
    n = p.n_known
    for x in range(n):
        for y in range(x + 1, n):
            train = known[0] & known[1] & (p.pa != x) & (p.pa != y) & (p.pb != x) & (p.pb != y)
            test = ((p.pa == x) & (p.pb == y)) | ((p.pa == y) & (p.pb == x))
            for person, partner in ((x, y), (y, x)):
                if (person + 1) % n == partner:
                    test |= (p.pa == person) & (p.pb == person)
                    test |= ((p.pa == person) & ~known[1]) | ((p.pb == person) & ~known[0])
            rule = fit_rule(d[train], p.same[train], p.q[train], delta)
            rules.append(rule)
            decisions[test] = apply_rule(rule, d[test], p.q[test])
    return decisions, rules


@dataclass
class Counts:
    impostors: int
    false_accepts: int
    genuine: int
    accepted: int
    rejected: int
    band: int
    low: int

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    def fr_decided(self) -> float:
        return self.rejected / self.decided if self.decided else 0.0


def counts(decisions: np.ndarray, same: np.ndarray, mask: np.ndarray | None = None) -> Counts:
    sel = decisions >= 0 if mask is None else (decisions >= 0) & mask
    g, i = decisions[sel & same], decisions[sel & ~same]
    return Counts(
        len(i),
        int((i == ACCEPT).sum()),
        len(g),
        int((g == ACCEPT).sum()),
        int((g == REJECT).sum()),
        int((g == BAND).sum()),
        int((g == LOW).sum()),
    )


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def choose_delta(p: Pairs, model: str) -> tuple[float, list[tuple[float, Counts]], np.ndarray]:
    """Smallest delta (multiple of DELTA_STEP) with no held-apart false accept, plus one step."""
    sweep = []
    delta = 0.0
    while delta <= DELTA_MAX + 1e-9:
        decisions, _ = held_apart(p, p.d[model], delta)
        c = counts(decisions, p.same)
        sweep.append((round(delta, 2), c))
        if c.false_accepts == 0:
            chosen = round(delta + DELTA_STEP, 2)
            final, _ = held_apart(p, p.d[model], chosen)
            sweep.append((chosen, counts(final, p.same)))
            return chosen, sweep, final
        delta += DELTA_STEP
    return round(delta, 2), sweep, decisions


# --- report ----------------------------------------------------------------------------------------


def row_of(c: Counts) -> list[str]:
    return [
        f"{c.false_accepts} / {c.impostors}",
        f"{c.rejected} / {c.decided} ({pct(c.fr_decided())})",
        pct(c.accepted / c.genuine) if c.genuine else "-",
        pct(c.band / c.genuine) if c.genuine else "-",
        pct(c.low / c.genuine) if c.genuine else "-",
    ]


DECISION_HEADER = [
    "false accepts",
    "false rejects among decided",
    "genuine matched",
    "genuine uncertain (band)",
    "genuine uncertain (low quality)",
]


def report(
    samples: list[Sample], p: Pairs, info: dict, models: tuple[str, ...], default: str | None
) -> tuple[str, dict]:
    out: list[str] = []
    summary: dict = {"models": {}}
    w = out.append
    w("# Verification accuracy with face quality (bench/accuracy.py)\n")
    w(
        f"Measured {utc_now()} on {machine_summary()}; load {load_average()}. Engine defaults (FastMTCNN, "
        "det_prob_threshold 0.8, min_face_size 20). Quality: "
        f"{info['quality_ms_mean']:.2f} ms/face mean, {info['quality_ms_p95']:.2f} ms p95.\n"
    )

    found = [s for s in samples if s.detected]
    clean = [s for s in found if s.variant == "clean"]
    w("## Data\n")
    w(
        markdown_table(
            ["", "deepface-pairs", "face-recognition-examples"],
            [
                [
                    "labelled persons",
                    *(
                        str(len({s.person for s in clean if s.person and s.dataset == ds}))
                        for ds in (DEEPFACE, EXAMPLES)
                    ),
                ],
                [
                    "clean faces (labelled / unknown)",
                    *(
                        f"{sum(1 for s in clean if s.dataset == ds and s.person)} / {sum(1 for s in clean if s.dataset == ds and not s.person)}"
                        for ds in (DEEPFACE, EXAMPLES)
                    ),
                ],
                [
                    "degraded copies (face found / lost)",
                    *(
                        f"{sum(1 for s in found if s.dataset == ds and s.variant != 'clean')} / {sum(1 for s in samples if s.dataset == ds and not s.detected)}"
                        for ds in (DEEPFACE, EXAMPLES)
                    ),
                ],
            ],
        )
    )
    cl = p.variant == "clean"
    w(
        f"\nPairs: {int((cl & p.same).sum())} genuine + {int((cl & ~p.same).sum())} impostor among clean faces; "
        f"{int((~cl & p.same).sum())} genuine + {int((~cl & ~p.same).sum())} impostor degraded-versus-clean.\n"
    )

    w("## Before: one threshold per model (d <= t), all pairs\n")
    rows = []
    for m in models:
        d = p.d[m]
        row = [m]
        for sel in (cl, ~cl):
            fa = int(((d <= 1) & ~p.same & sel).sum())
            fr = int(((d > 1) & p.same & sel).sum())
            row += [f"{fa} / {int((~p.same & sel).sum())}", f"{fr} / {int((p.same & sel).sum())}"]
        rows.append(row)
    w(
        markdown_table(
            [
                "model",
                "clean: false accepts",
                "clean: false rejects",
                "degraded: false accepts",
                "degraded: false rejects",
            ],
            rows,
        )
    )

    w("\n## Quality-aware rule, held-apart persons (leave two persons out)\n")
    w(
        f"Floor {QUALITY_FLOOR}, good tier q >= {GOOD_QUALITY}, fair tier {FAIR_STRICTER} stricter, "
        f"training FR target {FR_TRAIN:.1%}. delta: smallest multiple of {DELTA_STEP} without held-apart "
        'false accepts, plus one step. "Decided" = matched or rejected (not uncertain).\n'
    )
    sweeps, decisions_by, shipped = {}, {}, {}
    candidates = list(models) + [f for f, parts in FUSIONS.items() if all(x in models for x in parts)]
    rows = []
    for m in candidates:
        delta, sweep, decisions = choose_delta(p, m)
        sweeps[m], decisions_by[m] = sweep, decisions
        known = (p.pa < p.n_known) & (p.pb < p.n_known)
        shipped[m] = fit_rule(p.d[m][known], p.same[known], p.q[known], delta)
        c = counts(decisions, p.same)
        rows.append([m, f"{delta:.2f}", *row_of(c)])
        summary["models"][m] = {"delta": delta, "held_apart": asdict(c), "shipped_rule": asdict(shipped[m])}
    w(markdown_table(["model", "delta", *DECISION_HEADER], rows))

    w("\nFalse accepts on held-apart pairs by delta (the look-alike pairs set it):\n")
    deltas = sorted({dl for s in sweeps.values() for dl, _ in s})
    w(
        markdown_table(
            ["model", *(f"{dl:.2f}" for dl in deltas)],
            [
                [m, *(next((str(c.false_accepts) for dl, c in sweeps[m] if dl == x), "") for x in deltas)]
                for m in candidates
            ],
        )
    )

    w("\n## Held-apart, by dataset of the pair\n")
    rows = []
    for m in candidates:
        for ds in (DEEPFACE, EXAMPLES, "cross"):
            c = counts(decisions_by[m], p.same, p.datasets == ds)
            rows.append([m, ds, str(c.genuine), *row_of(c)])
    w(markdown_table(["model", "pairs", "genuine pairs", *DECISION_HEADER], rows))

    w("\n## Held-apart, by face size (smaller effective box height of the pair, px)\n")
    for m in candidates:
        rows = []
        for lo, hi in SIZE_BANDS:
            c = counts(decisions_by[m], p.same, (p.eff >= lo) & (p.eff < hi))
            rows.append([f"{lo}-{hi if hi < 100_000 else '...'}", str(c.genuine), *row_of(c)])
        w(f"\n**{m}**\n")
        w(markdown_table(["face px", "genuine pairs", *DECISION_HEADER], rows))

    w("\n## Held-apart, by degradation of the probe face\n")
    variants = sorted(
        set(p.variant),
        key=lambda v: (
            v != "clean",
            v.rstrip("0123456789."),
            float(v.lstrip("abcdefghijklmnopqrstuvwxyz") or 0),
        ),
    )
    show = [m for m in candidates if m in (default, "facenet", "facenet512", "dlib")]
    for m in show:
        rows = []
        for v in variants:
            faces = [s for s in samples if s.variant == v]
            det = [s for s in faces if s.detected]
            marked = sum(1 for s in det if s.quality["score"] < QUALITY_FLOOR)
            reasons = Counter(r for s in det for r in s.quality["reasons"])
            c = counts(decisions_by[m], p.same, p.variant == v)
            rows.append(
                [
                    v,
                    f"{len(det)} / {len(faces)}",
                    f"{marked} ({pct(marked / max(1, len(det)))})",
                    ", ".join(f"{k} {n}" for k, n in reasons.most_common(3)) or "-",
                    *row_of(c),
                ]
            )
        w(f"\n**{m}**\n")
        w(
            markdown_table(
                ["probe", "faces found", "below floor (uncertain)", "top reasons", *DECISION_HEADER], rows
            )
        )

    w("\n## Shipped rules (fitted on every labelled person), in d / t\n")
    rows = []
    for m in candidates:
        r = shipped[m]
        in_code = MATCH_RULES.get(m)
        same_as_code = (
            "yes" if in_code == r else ("not shipped" if in_code is None else f"no: code has {in_code}")
        )
        c = counts(apply_rule(r, p.d[m], p.q), p.same)
        rows.append(
            [
                m,
                f"{r.accept_good:.3f} / {r.reject_good:.2f}",
                f"{r.accept_fair:.3f} / {r.reject_fair:.2f}",
                f"{c.false_accepts}",
                pct(c.fr_decided()),
                pct(c.accepted / c.genuine),
                same_as_code,
            ]
        )
    w(
        markdown_table(
            [
                "model",
                "good: accept <= / reject >",
                "fair: accept <= / reject >",
                "false accepts (all pairs)",
                "FR among decided",
                "genuine matched",
                "equals facecore.quality.MATCH_RULES",
            ],
            rows,
        )
    )
    return "\n".join(out), summary


MODELS_MD = REPO / "docs" / "models.md"
DOCS_HEADING = "## Accuracy on strangers: measured (bench/accuracy.py)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument(
        "--refresh", action="store_true", help="recompute faces and embeddings (ignore the cache)"
    )
    parser.add_argument(
        "--default",
        default="facenet",
        help="model whose per-degradation table is shown first (the shipped default)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; do not update docs/models.md")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    root = shared_dir()
    if (
        not (root / "datasets" / DEEPFACE / "master.csv").is_file()
        or not (root / "datasets" / EXAMPLES / "labels.csv").is_file()
    ):
        sys.exit(f"needs {root}/datasets/{DEEPFACE} and {root}/datasets/{EXAMPLES}; set FACECORE_SHARED_DIR")
    models = tuple(m for m in MODELS if m in args.models)
    photos = labelled_photos(root)
    samples, matrices, info = load_or_collect(photos, models, args.refresh)
    pairs = build_pairs(samples, matrices, info["thresholds"])
    text, summary = report(samples, pairs, info, models, args.default)
    print(text)
    if not args.no_write:
        # One section of docs/models.md: the report's title goes, its sections become subsections.
        lines = [line for line in text.splitlines() if not line.startswith("# ")]
        body = "\n".join("#" + line if line.startswith("## ") else line for line in lines)
        write_section(DOCS_HEADING, body, path=MODELS_MD)
        print(f"wrote {DOCS_HEADING!r} in docs/models.md")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary | {"info": info}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
