"""Measures on lfw-dev's cached faces (bench.lfw_data): the standard pair protocol, impostor
distances for calibration and open-set identification. Plain numpy; no engine, no service."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench.lfw_data import read_pairs

SAME_PERSON = (
    ("Noer_Moeis", "Noer_Muis"),
    ("Chyung_Dai-chul", "Dai_Chul_Chyung"),
    ("Wang_Yingfan", "Yingfan_Wang"),
    ("Hasan_Wirayuda", "Hassan_Wirajuda"),
    ("Bart_Hendricks", "Ricky_Ray"),
    ("Gabrielle_Rose", "Martha_Bowen"),
    ("Emmy_Rossum", "Eva_Amurri"),
    ("Andrew_Caldecott", "Andrew_Gilligan"),
    ("Carlos_Beltran", "Raul_Ibanez"),
)
"""LFW's own label errors in lfw-dev: one person under two spellings of a name (the first four) and
one photo filed under two names (checked by eye; the closest "impostor" pairs of every model, r < 0.3).
Each group counts as one person here, so it is neither an impostor pair nor a stranger."""


def unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, 1e-12)


@dataclass
class Lfw:
    """The labelled face of every lfw-dev image and the degraded copies, for one model."""

    model: str
    threshold: float
    keys: list[str]
    person: np.ndarray
    """Person id per image."""
    names: list[str]
    q: np.ndarray
    """Quality score of the labelled face."""
    emb: dict[str, np.ndarray]
    """``plain``, ``flip`` (mirrored crop) and ``mean`` (unit mean of both) per image."""
    deg_keys: list[str]
    deg_person: np.ndarray
    deg_variant: np.ndarray
    deg_found: np.ndarray
    deg_q: np.ndarray
    deg_emb: dict[str, np.ndarray]
    index: dict[str, int] = field(default_factory=dict)
    has_flip: bool = True
    """False when the mirrored crops were not embedded (``lfw_data.NO_FLIP``): ``flip`` = ``plain``."""

    @property
    def n(self) -> int:
        return len(self.keys)


def load(model: str, threshold: float, detections: dict, arrays: dict[str, np.ndarray]) -> Lfw:
    images = detections["images"]
    names = sorted({r["person"] for r in images})
    pid = {n: i for i, n in enumerate(names)}
    for group in SAME_PERSON:
        for name in group[1:]:
            if name in pid and group[0] in pid:
                pid[name] = pid[group[0]]
    has_flip = "flip" in arrays
    emb = {"plain": unit(arrays["plain"]), "flip": unit(arrays["flip" if has_flip else "plain"])}
    emb["mean"] = unit(emb["plain"] + emb["flip"])
    deg = detections["degraded"]
    deg_emb = {
        "plain": unit(arrays["deg_plain"]),
        "flip": unit(arrays["deg_flip" if has_flip else "deg_plain"]),
    }
    deg_emb["mean"] = unit(deg_emb["plain"] + deg_emb["flip"])
    data = Lfw(
        model=model,
        threshold=threshold,
        keys=[r["key"] for r in images],
        person=np.array([pid[r["person"]] for r in images]),
        names=names,
        q=np.array(
            [r["faces"][r["centre"]]["quality"]["score"] if r["centre"] is not None else 0.0 for r in images]
        ),
        emb=emb,
        deg_keys=[d["key"] for d in deg],
        deg_person=np.array([pid[d["person"]] for d in deg]),
        deg_variant=np.array([d["variant"] for d in deg]),
        deg_found=np.array([d["face"] is not None for d in deg]),
        deg_q=np.array([d["face"]["quality"]["score"] if d["face"] else 0.0 for d in deg]),
        deg_emb=deg_emb,
    )
    data.index = {k: i for i, k in enumerate(data.keys)}
    data.has_flip = has_flip
    return data


# --- the standard protocol ---------------------------------------------------------------------


@dataclass
class PairSet:
    fold: np.ndarray
    same: np.ndarray
    a: np.ndarray
    b: np.ndarray


def pair_set(data: Lfw) -> PairSet:
    rows = read_pairs()
    idx = data.index
    return PairSet(
        fold=np.array([r["fold"] for r in rows]),
        same=np.array([r["same"] == 1 for r in rows]),
        a=np.array([idx[f"{r['person_a']}/{r['image_a']}"] for r in rows]),
        b=np.array([idx[f"{r['person_b']}/{r['image_b']}"] for r in rows]),
    )


def pair_distances(data: Lfw, pairs: PairSet, variant: str) -> np.ndarray:
    e = data.emb[variant]
    return np.linalg.norm(e[pairs.a] - e[pairs.b], axis=1)


def best_threshold(d: np.ndarray, same: np.ndarray) -> float:
    """Middle of the best-accuracy interval of thresholds (same when distance <= t)."""
    order = np.argsort(d)
    ds, ss = d[order], same[order]
    # accept the first k: correct = same among first k + different after k
    correct = np.concatenate([[0], np.cumsum(ss)]) + np.concatenate(
        [[(~ss).sum()], (~ss).sum() - np.cumsum(~ss)]
    )
    k = int(np.argmax(correct))
    lo = ds[k - 1] if k > 0 else ds[0] - 0.01
    hi = ds[k] if k < len(ds) else ds[-1] + 0.01
    return float((lo + hi) / 2)


def protocol(d: np.ndarray, pairs: PairSet) -> tuple[float, float, list[float]]:
    """Mean and std of accuracy over folds, the threshold chosen on the other folds."""
    accs, thresholds = [], []
    for fold in np.unique(pairs.fold):
        train, test = pairs.fold != fold, pairs.fold == fold
        t = best_threshold(d[train], pairs.same[train])
        thresholds.append(t)
        accs.append(float(np.mean((d[test] <= t) == pairs.same[test])))
    return float(np.mean(accs)), float(np.std(accs)), thresholds


# --- impostor distances ------------------------------------------------------------------------


@dataclass
class Impostors:
    """Relative distances of impostor comparisons below ``cap`` with their min quality, and the totals."""

    r: np.ndarray
    q: np.ndarray
    total: int
    total_by_tier: dict[str, int]


def _tier_counts(qmin: np.ndarray, floor: float, good: float) -> dict[str, int]:
    return {
        "good": int((qmin >= good).sum()),
        "fair": int(((qmin >= floor) & (qmin < good)).sum()),
        "low": int((qmin < floor).sum()),
    }


def impostors(
    data: Lfw, variant: str, floor: float, good: float, cap: float = 1.1, block: int = 1024
) -> Impostors:
    """Every clean-clean pair of different people and every degraded face against every clean face
    of another person."""
    e, p, q, t = data.emb[variant], data.person, data.q, data.threshold
    rs, qs = [], []
    totals = {"good": 0, "fair": 0, "low": 0}
    total = 0

    def add(x: np.ndarray, px: np.ndarray, qx: np.ndarray, upper_only: int | None) -> None:
        nonlocal total
        dist = np.sqrt(np.maximum(2.0 - 2.0 * x @ e.T, 0.0)) / t
        diff = px[:, None] != p[None, :]
        if upper_only is not None:
            rows = np.arange(len(x))[:, None] + upper_only
            diff &= np.arange(len(p))[None, :] > rows
        qmin = np.minimum(qx[:, None], q[None, :])
        total += int(diff.sum())
        for k, v in _tier_counts(qmin[diff], floor, good).items():
            totals[k] += v
        keep = diff & (dist <= cap)
        rs.append(dist[keep].astype(np.float32))
        qs.append(qmin[keep].astype(np.float32))

    for start in range(0, data.n, block):
        sl = slice(start, start + block)
        add(e[sl], p[sl], q[sl], start)
    found = data.deg_found
    de = data.deg_emb[variant][found]
    for start in range(0, len(de), block):
        sl = slice(start, start + block)
        add(de[sl], data.deg_person[found][sl], data.deg_q[found][sl], None)
    return Impostors(np.concatenate(rs), np.concatenate(qs), total, totals)


def genuine(data: Lfw, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """Relative distances and min qualities of every same-person pair (clean-clean and degraded-clean
    from another photo)."""
    e, p, q, t = data.emb[variant], data.person, data.q, data.threshold
    rs, qs = [], []
    by_person: dict[int, list[int]] = {}
    for i, person in enumerate(p):
        by_person.setdefault(int(person), []).append(i)
    for rows in by_person.values():
        if len(rows) < 2:
            continue
        x = e[rows]
        dist = np.sqrt(np.maximum(2 - 2 * x @ x.T, 0)) / t
        iu = np.triu_indices(len(rows), 1)
        rs.append(dist[iu])
        qs.append(np.minimum(q[rows][:, None], q[rows][None, :])[iu])
    found = np.flatnonzero(data.deg_found)
    de = data.deg_emb[variant]
    for i in found:
        rows = [r for r in by_person[int(data.deg_person[i])]]
        source_row = rows[0]  # degraded copies are made of each person's first photo
        others = [r for r in rows if r != source_row]
        if not others:
            continue
        rs.append(np.sqrt(np.maximum(2 - 2 * e[others] @ de[i], 0)) / t)
        qs.append(np.minimum(q[others], data.deg_q[i]))
    return np.concatenate(rs), np.concatenate(qs)


# --- open-set identification -------------------------------------------------------------------


@dataclass
class Gallery:
    """One enrolment draw: example rows per subject, probe rows of enrolled people, stranger rows."""

    subjects: list[int]
    """Person id per subject."""
    examples: list[list[int]]
    probes: np.ndarray
    probe_subject: np.ndarray
    """Index into ``subjects`` of each probe's true subject."""
    strangers: np.ndarray


def draw_gallery(data: Lfw, size: int | None, per_subject: int, split: int, seed: int) -> Gallery:
    """Enrol ``per_subject`` random photos of ``size`` people (None: everyone eligible plus every
    distractor); people with more photos are preferred, single-photo people fill larger galleries
    as distractors (no probes). Single-photo people are split in two halves by a fixed draw: half
    ``split`` can be distractors, the other half are the strangers."""
    rng = np.random.default_rng(seed)
    rows_of: dict[int, list[int]] = {}
    for i, person in enumerate(data.person):
        rows_of.setdefault(int(person), []).append(i)
    eligible = sorted(p for p, rows in rows_of.items() if len(rows) > per_subject)
    singles = sorted(p for p, rows in rows_of.items() if len(rows) == 1)
    halves = np.random.default_rng(12345).permutation(singles)
    half = len(halves) // 2
    pool, strangers = (halves[:half], halves[half:]) if split == 0 else (halves[half:], halves[:half])
    if size is None:
        chosen, fillers = list(eligible), list(pool)
    elif size <= len(eligible):
        chosen, fillers = list(rng.choice(eligible, size, replace=False)), []
    else:
        chosen, fillers = list(eligible), list(rng.choice(pool, size - len(eligible), replace=False))
    subjects, examples, probes, probe_subject = [], [], [], []
    for person in chosen:
        rows = list(rng.permutation(rows_of[int(person)]))
        subjects.append(int(person))
        examples.append(rows[:per_subject])
        probes += rows[per_subject:]
        probe_subject += [len(subjects) - 1] * (len(rows) - per_subject)
    for person in fillers:
        subjects.append(int(person))
        examples.append(rows_of[int(person)][:1])
    return Gallery(
        subjects,
        examples,
        np.array(probes),
        np.array(probe_subject),
        np.array([rows_of[int(p)][0] for p in strangers]),
    )


@dataclass
class Ranked:
    """Per probe: the best subject, its relative score and quality, and the second-best score."""

    best: np.ndarray
    r1: np.ndarray
    q1: np.ndarray
    r2: np.ndarray


def rank(
    data: Lfw,
    gallery: Gallery,
    probes: np.ndarray,
    variant: str,
    scoring: str,
    probe_emb: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
) -> Ranked:
    """``exclude``: per probe a subject index left out of the gallery (-1: none), which makes
    the probe a stranger. ``scoring``: ``nearest`` (the subject's closest example) or ``template`` (the unit mean of its
    examples' embeddings; quality: the mean of theirs)."""
    e = data.emb[variant]
    x = e[probes] if probe_emb is None else probe_emb
    t = data.threshold
    if scoring == "template":
        tmpl = unit(np.stack([e[rows].mean(axis=0) for rows in gallery.examples]))
        tq = np.array([data.q[rows].mean() for rows in gallery.examples])
        d = np.sqrt(np.maximum(2 - 2 * x @ tmpl.T, 0)) / t
        qsub = np.broadcast_to(tq, d.shape)
    else:
        width = max(len(r) for r in gallery.examples)
        idx = np.array([list(r) + [-1] * (width - len(r)) for r in gallery.examples])
        de = np.sqrt(np.maximum(2 - 2 * x @ e[np.maximum(idx, 0)].reshape(-1, e.shape[1]).T, 0)) / t
        de = de.reshape(len(x), len(idx), width)
        de[:, idx < 0] = np.inf
        k = np.argmin(de, axis=2)
        d = np.take_along_axis(de, k[:, :, None], axis=2)[:, :, 0]
        qsub = data.q[np.take_along_axis(np.broadcast_to(idx, de.shape), k[:, :, None], axis=2)[:, :, 0]]
    if exclude is not None:
        rows = np.flatnonzero(exclude >= 0)
        d = d.copy()
        d[rows, exclude[rows]] = np.inf
    order = np.argpartition(d, 1, axis=1)[:, :2] if d.shape[1] > 1 else np.zeros((len(x), 1), int)
    rows = np.arange(len(x))
    first = np.where(d[rows, order[:, 0]] <= d[rows, order[:, -1]], order[:, 0], order[:, -1])
    second = np.where(first == order[:, 0], order[:, -1], order[:, 0])
    return Ranked(
        first,
        d[rows, first],
        qsub[rows, first],
        d[rows, second] if d.shape[1] > 1 else np.full(len(x), np.inf),
    )
