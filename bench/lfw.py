"""LFW benchmark and calibration on lfw-dev -> docs/benchmarks.md "LFW (lfw-dev)".

Data: ``$FACECORE_SHARED_DIR/datasets/lfw-dev`` (LFW View 2 folds 1-5 plus the people in no fold,
deep-funneled 250x250: 3,550 people, 6,419 images, 2,975 pairs). Faces and embeddings come from
``bench.lfw_data`` (the real engine, cached under ``var/cache/lfw``; computed once per model).

For every model:

1. **Standard protocol** on lfw-dev's pairs: mean accuracy over the five folds, each fold's threshold
   chosen on the other four; beside it the published numbers from the dataset's README.
2. **Calibration** (``fit``): impostor comparisons are every pair of labelled faces of two different
   people plus every degraded copy against every clean face of another person
   (``lfw_eval.impostors``; LFW's own label errors, ``lfw_eval.SAME_PERSON``, count as one person).
   Per quality tier: the ``search`` edge (image matches, clusters) is the largest relative distance
   (step ``STEP``) with at most ``FAR_SEARCH`` of the tier's impostors at or below it, the ``verify``
   edge the same at ``FAR_VERIFY``. Identification (recognize) edge and margin: the grid point
   naming the most enrolled people's other photos in open-set runs at gallery ``FIT_GALLERY`` (one
   photo each, both stranger halves, ``SEEDS`` draws) while naming at most ``PROBE_RATE`` of the
   strangers, of the degraded strangers and of the enrolled probes wrongly; the fair tier's edge is
   the good one minus the verify edges' tier gap. ``--fit`` prints the rule to paste into
   ``facecore.quality.MATCH_RULES``; the report checks the shipped rule against it.
3. **Open-set identification** at galleries 100 / 1,000 / all, one or two photos enrolled per
   person, decided per probe by ``MatchRule.identify`` on subject templates
   (``facecore.quality.subject_template``), the code ``recognition.predictions`` runs.
4. **What each option gives** (issue 19 item 3): mirrored-crop averaging, subject templates against
   the nearest example, the runner-up margin, against the rule before this calibration.
5. **Dominant face**: how many lfw-dev photos an example import refuses for more than one face,
   before and after ``facecore.quality.dominant_face``.

    FACECORE_MODELS_DIR=... .venv/bin/python -m bench.lfw              # every model, writes docs
    .venv/bin/python -m bench.lfw --models facenet --fit --no-write
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, replace

import numpy as np

from bench import lfw_data
from bench import lfw_eval as E
from bench.common import load_average, machine_summary, markdown_table, publish, utc_now
from facecore.quality import MATCH_RULES, MatchRule

HEADING = "## LFW (lfw-dev)"
MODELS = ("facenet", "facenet512", "dlib")
PUBLISHED = {
    "facenet": "99.2 % (davidsandberg 20170512-110547)",
    "facenet512": "99.05 % (davidsandberg 20180408-102900)",
    "dlib": "99.38 % (dlib ResNet)",
}
FAR_SEARCH = 1e-5
FAR_VERIFY = 5e-4
PROBE_RATE = 0.003
FIT_GALLERY = 1000
SEEDS = (0, 1, 2)
STEP = 0.005
FAIR_STRICTER = 0.0
EDGE_GRID = np.round(np.arange(0.50, 1.2001, 0.025), 3)
MARGIN_GRID = np.round(np.arange(0.0, 0.4001, 0.025), 3)
VARIANT = "plain"
"""The shipped embedding (mirrored-crop averaging did not pay, see the report)."""
SCORING = "template"
GALLERIES = ((100, "100"), (1000, "1,000"), (None, "all"))


def model_threshold(model: str) -> float:
    from facecore.embedders import embedder_class

    return float(embedder_class(model).threshold)


def load(model: str, refresh: bool = False) -> E.Lfw:
    detections = lfw_data.detect_all(refresh)
    arrays = lfw_data.embed_all(model, detections, refresh)
    return E.load(model, model_threshold(model), detections, arrays)


# --- open-set runs -------------------------------------------------------------------------------


@dataclass
class Run:
    """Ranked probes of one gallery draw: enrolled people's other photos, strangers, degraded copies."""

    probes: E.Ranked
    probe_q: np.ndarray
    probe_right: np.ndarray
    strangers: E.Ranked
    stranger_q: np.ndarray
    degraded: E.Ranked
    degraded_q: np.ndarray
    degraded_enrolled: np.ndarray
    degraded_right: np.ndarray
    degraded_as_stranger: E.Ranked
    degraded_raw_q: np.ndarray


def runs(data: E.Lfw, size: int | None, per: int, variant: str, scoring: str) -> list[Run]:
    out = []
    found = np.flatnonzero(data.deg_found)
    for split in (0, 1):
        for seed in SEEDS:
            g = E.draw_gallery(data, size, per, split, seed)
            rp = E.rank(data, g, g.probes, variant, scoring)
            rs = E.rank(data, g, g.strangers, variant, scoring)
            enrolled_rows = {r for rows in g.examples for r in rows}
            subject_of = {p: k for k, p in enumerate(g.subjects)}
            # degraded copies of a photo that is itself enrolled are left out (same frame)
            keep = [i for i in found if data.index[_source(data, i)] not in enrolled_rows]
            rd = E.rank(data, g, np.array(keep), variant, scoring, probe_emb=data.deg_emb[variant][keep])
            truth = np.array([subject_of.get(int(data.deg_person[i]), -1) for i in keep])
            alone = E.rank(
                data, g, np.array(keep), variant, scoring, data.deg_emb[variant][keep], exclude=truth
            )
            out.append(
                Run(
                    rp,
                    np.minimum(data.q[g.probes], rp.q1),
                    rp.best == g.probe_subject,
                    rs,
                    np.minimum(data.q[g.strangers], rs.q1),
                    rd,
                    np.minimum(data.deg_q[keep], rd.q1),
                    truth >= 0,
                    rd.best == truth,
                    alone,
                    data.deg_q[keep],
                )
            )
    return out


def _source(data: E.Lfw, i: int) -> str:
    return data.deg_keys[i].split("@")[0]


def named(rule: MatchRule, t: float, r: E.Ranked, q: np.ndarray) -> np.ndarray:
    """Vectorised ``MatchRule.identify(...).verdict == "match"`` (checked against it in ``report``)."""
    edge = np.where(
        q >= rule.good_quality, rule.accept_edge("good", "identify"), rule.accept_edge("fair", "identify")
    )
    return (q >= rule.quality_floor) & (r.r1 <= edge) & ((r.r2 - r.r1) >= rule.identify_margin - 1e-9)


@dataclass
class OpenSet:
    probes: int
    right: int
    wrong: int
    strangers: int
    strangers_named: int
    degraded_enrolled: int
    degraded_right: int
    degraded_wrong: int
    degraded_strangers: int
    degraded_strangers_named: int

    @property
    def right_rate(self) -> float:
        return self.right / max(1, self.probes)

    @property
    def wrong_rate(self) -> float:
        return self.wrong / max(1, self.probes)

    @property
    def stranger_rate(self) -> float:
        return self.strangers_named / max(1, self.strangers)

    @property
    def degraded_stranger_rate(self) -> float:
        return self.degraded_strangers_named / max(1, self.degraded_strangers)


def open_set(rule: MatchRule, t: float, rs: list[Run]) -> OpenSet:
    c = dict.fromkeys(OpenSet.__dataclass_fields__, 0)
    for r in rs:
        n = named(rule, t, r.probes, r.probe_q)
        c["probes"] += len(n)
        c["right"] += int((n & r.probe_right).sum())
        c["wrong"] += int((n & ~r.probe_right).sum())
        s = named(rule, t, r.strangers, r.stranger_q)
        c["strangers"] += len(s)
        c["strangers_named"] += int(s.sum())
        d = named(rule, t, r.degraded, r.degraded_q)
        e = r.degraded_enrolled
        c["degraded_enrolled"] += int(e.sum())
        c["degraded_right"] += int((d & e & r.degraded_right).sum())
        c["degraded_wrong"] += int((d & e & ~r.degraded_right).sum())
        alone = named(
            rule, t, r.degraded_as_stranger, np.minimum(r.degraded_raw_q, r.degraded_as_stranger.q1)
        )
        c["degraded_strangers"] += len(alone)
        c["degraded_strangers_named"] += int(alone.sum())
    return OpenSet(**c)


# --- calibration ---------------------------------------------------------------------------------


@dataclass
class Fit:
    rule: MatchRule
    impostors: E.Impostors
    genuine: tuple[np.ndarray, np.ndarray]
    identify: OpenSet


def far_edge(imp: E.Impostors, tier: str, far: float, rule: MatchRule) -> float:
    lo, hi = (rule.good_quality, 9.0) if tier == "good" else (rule.quality_floor, rule.good_quality)
    r = np.sort(imp.r[(imp.q >= lo) & (imp.q < hi)])
    allowed = int(math.floor(far * imp.total_by_tier[tier]))
    limit = r[allowed] if allowed < len(r) else r[-1]  # the first impostor that would be one too many
    return float(math.floor((limit - 1e-9) / STEP) * STEP)


def fit(data: E.Lfw, base: MatchRule, variant: str = VARIANT, scoring: str = SCORING) -> Fit:
    imp = E.impostors(data, variant, base.quality_floor, base.good_quality)
    rule = replace(base)
    edges = {
        f"{kind}_{tier}": far_edge(imp, tier, far, base)
        for kind, far in (("accept", FAR_SEARCH), ("verify", FAR_VERIFY))
        for tier in ("good", "fair")
    }
    for kind in ("accept", "verify"):  # the fair tier is never looser than the good one
        edges[f"{kind}_fair"] = min(edges[f"{kind}_fair"], edges[f"{kind}_good"] - FAIR_STRICTER)
    rule = replace(rule, **{k: round(v, 3) for k, v in edges.items()})
    gap = rule.verify_good - rule.verify_fair
    rs = runs(data, FIT_GALLERY, 1, variant, scoring)
    best: tuple | None = None
    for a in EDGE_GRID:
        for m in MARGIN_GRID:
            cand = replace(
                rule, identify_good=float(a), identify_fair=round(float(a) - gap, 3), identify_margin=float(m)
            )
            o = open_set(cand, data.threshold, rs)
            ok = max(o.stranger_rate, o.wrong_rate, o.degraded_stranger_rate) <= PROBE_RATE
            if ok and (best is None or o.right > best[0].right):
                best = (o, cand)
    assert best is not None, "no identification rule meets PROBE_RATE"
    return Fit(best[1], imp, E.genuine(data, variant), best[0])


def rule_source(model: str, rule: MatchRule) -> str:
    fields = ", ".join(
        f"{k}={getattr(rule, k)!r}"
        for k in (
            "accept_good",
            "accept_fair",
            "reject_good",
            "reject_fair",
            "verify_good",
            "verify_fair",
            "identify_good",
            "identify_fair",
            "identify_margin",
        )
    )
    return f'    "{model}": MatchRule({rule.quality_floor}, {rule.good_quality}, {fields}),'


# --- report --------------------------------------------------------------------------------------


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def check_identify(rule: MatchRule, t: float, r: Run) -> None:
    """The vectorised ``named`` agrees with ``MatchRule.identify`` (the service's code) on these probes."""
    fast = named(rule, t, r.probes, r.probe_q)
    for i in range(0, len(fast), 7):
        second = None if math.isinf(r.probes.r2[i]) else r.probes.r2[i] * t
        d = rule.identify(r.probes.r1[i] * t, t, r.probe_q[i], r.probe_q[i], second)
        assert (d.verdict == "match") == bool(fast[i]), (i, d, r.probes.r1[i], r.probes.r2[i])


def verify_pairs(data: E.Lfw, pairs: E.PairSet, rule: MatchRule, variant: str = VARIANT) -> dict:
    """``MatchRule.decide(purpose="verify")`` on lfw-dev's pairs (what ``/verify`` answers)."""
    d = E.pair_distances(data, pairs, variant)
    verdicts = [
        rule.decide(d[i], data.threshold, data.q[pairs.a[i]], data.q[pairs.b[i]], purpose="verify").verdict
        for i in range(len(d))
    ]
    v = np.array(verdicts)
    same = pairs.same
    return {
        "same": int(same.sum()),
        "same_verified": int(((v == "match") & same).sum()),
        "same_uncertain": int(((v == "uncertain") & same).sum()),
        "different": int((~same).sum()),
        "different_verified": int(((v == "match") & ~same).sum()),
    }


VERIFY_CURVE = (1e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3)


def verify_curve(data: E.Lfw, pairs: E.PairSet, imp: E.Impostors, rule: MatchRule) -> list[tuple]:
    """(FAR, good-tier edge, same-person pairs within it, different pairs within it) on lfw-dev's pairs."""
    d = E.pair_distances(data, pairs, VARIANT) / data.threshold
    q = np.minimum(data.q[pairs.a], data.q[pairs.b])
    good = q >= rule.good_quality
    out = []
    for far in VERIFY_CURVE:
        edge = far_edge(imp, "good", far, rule)
        out.append(
            (
                far,
                edge,
                float(np.mean(d[pairs.same & good] <= edge)),
                int((d[~pairs.same & good] <= edge).sum()),
            )
        )
    return out


def dominant_counts(detections: dict) -> dict:
    from facecore.quality import FaceSummary, dominant_face

    rule = MATCH_RULES["facenet"]
    out = {
        "images": 0,
        "several": 0,
        "refused_before": 0,
        "refused_after": 0,
        "enrolled_right": 0,
        "enrolled_wrong": 0,
    }
    for r in detections["images"]:
        out["images"] += 1
        faces = r["faces"]
        if len(faces) < 2:
            continue
        out["several"] += 1
        usable = [f for f in faces if f["quality"]["score"] >= rule.quality_floor]
        if len(usable) < 2:
            continue
        out["refused_before"] += 1
        summaries = [FaceSummary(*f["box"], f["quality"]["score"]) for f in faces]
        pick = dominant_face(summaries, *r["size"], rule.quality_floor, rule.good_quality)
        if pick is None:
            out["refused_after"] += 1
        elif pick == r["centre"]:
            out["enrolled_right"] += 1
        else:
            out["enrolled_wrong"] += 1
    return out


def old_rule(model: str) -> MatchRule:
    """The rule before this calibration (issue 14's, fitted on 20 people): one edge for everything."""
    r = MATCH_RULES_BEFORE[model]
    return MatchRule(r[0], r[1], accept_good=r[2], accept_fair=r[3], reject_good=r[4], reject_fair=r[5])


MATCH_RULES_BEFORE = {
    "facenet": (0.05, 0.5, 0.636, 0.596, 1.01, 1.08),
    "facenet512": (0.05, 0.5, 0.774, 0.734, 1.08, 1.14),
    "dlib": (0.05, 0.5, 0.837, 0.797, 1.09, 1.16),
}


def open_row(label: str, o: OpenSet) -> list[str]:
    return [
        label,
        f"{o.probes:,}",
        pct(o.right_rate),
        pct(1 - o.right_rate - o.wrong_rate),
        f"{o.wrong} ({pct(o.wrong_rate, 2)})",
        f"{o.strangers_named} / {o.strangers:,} ({pct(o.stranger_rate, 2)})",
        f"{o.degraded_right / max(1, o.degraded_enrolled):.1%} / {o.degraded_wrong}",
        f"{o.degraded_strangers_named} / {o.degraded_strangers:,}",
    ]


OPEN_HEADER = [
    "gallery, examples each",
    "probes",
    "named right",
    "unknown",
    "named wrong",
    "strangers named",
    "degraded copies named right / wrong",
    "degraded strangers named",
]


def model_report(model: str, refresh: bool, do_fit: bool) -> dict:
    data = load(model, refresh)
    pairs = E.pair_set(data)
    shipped = MATCH_RULES[model]
    out: dict = {"model": model, "data": data}
    d = {v: E.pair_distances(data, pairs, v) for v in ("plain", "mean")}
    out["protocol"] = {v: E.protocol(d[v], pairs) for v in d}
    out["at_threshold"] = float(np.mean((d["plain"] <= data.threshold) == pairs.same))
    fitted = fit(data, shipped)
    out["fit"] = fitted
    if do_fit:
        print(rule_source(model, fitted.rule))
    out["matches_code"] = fitted.rule == shipped
    rule = shipped
    first = runs(data, 300, 1, VARIANT, SCORING)
    check_identify(rule, data.threshold, first[0])
    out["open"] = {("300", 1): open_set(rule, data.threshold, first)}
    for size, label in GALLERIES:
        for per in (1, 2):
            out["open"][(label, per)] = open_set(
                rule, data.threshold, runs(data, size, per, VARIANT, SCORING)
            )
    out["verify"] = {
        "before": verify_pairs(data, pairs, old_rule(model)),
        "after": verify_pairs(data, pairs, rule),
    }
    out["verify_curve"] = verify_curve(data, pairs, fitted.impostors, rule)
    # item 3: each option with the identification edge and margin refitted to the same rates
    options = {}
    before = old_rule(model)
    for per in (1, 2):
        options[("before", per)] = open_set(
            before, data.threshold, runs(data, FIT_GALLERY, per, VARIANT, "nearest")
        )
    for label, variant, scoring, margin in (
        ("nearest example, no margin", VARIANT, "nearest", False),
        ("nearest example + margin", VARIANT, "nearest", True),
        ("template + margin (shipped)", VARIANT, "template", True),
        ("template + margin, mirrored crops averaged", "mean", "template", True),
    ):
        if variant == "mean" and not data.has_flip:
            continue  # mirrored crops not embedded for this model (lfw_data.NO_FLIP)
        grid = MARGIN_GRID if margin else np.array([0.0])
        r = refit_identify(data, rule, variant, scoring, grid)
        for per in (1, 2):
            options[(label, per)] = (
                r,
                open_set(r, data.threshold, runs(data, FIT_GALLERY, per, variant, scoring)),
            )
    out["options"] = options
    return out


def refit_identify(
    data: E.Lfw, rule: MatchRule, variant: str, scoring: str, margins: np.ndarray
) -> MatchRule:
    rs = runs(data, FIT_GALLERY, 1, variant, scoring)
    gap = rule.verify_good - rule.verify_fair
    best = None
    for a in EDGE_GRID:
        for m in margins:
            cand = replace(
                rule, identify_good=float(a), identify_fair=round(float(a) - gap, 3), identify_margin=float(m)
            )
            o = open_set(cand, data.threshold, rs)
            if max(o.stranger_rate, o.wrong_rate, o.degraded_stranger_rate) <= PROBE_RATE and (
                best is None or o.right > best[0].right
            ):
                best = (o, cand)
    return best[1] if best else replace(rule, identify_good=0.5, identify_margin=1.0)


def report(results: list[dict], dominant: dict) -> str:
    parts = [
        f"Measured {utc_now()} on {machine_summary()}; load {load_average()}. `make bench-lfw` "
        "(`bench/lfw.py`, faces and embeddings cached by `bench/lfw_data.py`). lfw-dev: LFW View 2 folds "
        "1-5 plus the people in no fold, deep-funneled 250x250; 3,550 people, 6,419 images, 2,975 pairs; "
        "the labelled face is the one nearest the image centre (every image had a face). Engine defaults "
        "(FastMTCNN, the models' own crops). Nine pairs of LFW names that are one person (spelling "
        "variants, one photo filed under two names) count as one person (`lfw_eval.SAME_PERSON`).",
        "### Standard protocol (mean accuracy over folds 1-5, threshold chosen on the other folds)",
    ]
    rows = []
    for r in results:
        (m, s, ts), (mf, sf, _) = r["protocol"]["plain"], r["protocol"]["mean"]
        rows.append(
            [
                f"`{r['model']}`",
                f"{100 * m:.2f} % ± {100 * s:.2f}",
                f"{100 * mf:.2f} % ± {100 * sf:.2f}" if r["data"].has_flip else "not measured",
                f"{min(ts):.3f} – {max(ts):.3f}",
                f"{100 * r['at_threshold']:.2f} % ({r['data'].threshold})",
                PUBLISHED[r["model"]],
            ]
        )
    parts.append(
        markdown_table(
            [
                "model",
                "lfw-dev, 2,975 pairs",
                "mirrored crop averaged in",
                "thresholds chosen",
                "at the shipped threshold",
                "published (own crops, all 6,000 pairs)",
            ],
            rows,
        )
    )
    parts.append(
        f"### Calibration (`fit`): accept edges per quality tier\n\nImpostor comparisons: every pair of "
        "labelled faces of two different people plus every degraded copy (`bench.accuracy.degradations` of "
        f"the first photo of {lfw_data.DEGRADED_PEOPLE} people) against every clean face of another person. "
        f"`search` edge (image matches, clusters): at most {FAR_SEARCH:g} of the tier's impostor comparisons "
        f"accepted; `verify` edge (verify, CompreFace verification): at most {FAR_VERIFY:g}; the fair "
        f"tier is never looser than good − {FAIR_STRICTER}. `identify` (recognize): the edge and runner-up "
        f"margin that name the most enrolled people's other photos at gallery {FIT_GALLERY:,} (one photo "
        f"each, {2 * len(SEEDS)} draws) while naming at most {PROBE_RATE:.1%} of the strangers, of the "
        "degraded strangers, and of the enrolled probes wrongly."
    )
    rows = []
    for r in results:
        f = r["fit"]
        g_r, g_q = f.genuine
        for tier in ("good", "fair"):
            lo, hi = (
                (f.rule.good_quality, 9) if tier == "good" else (f.rule.quality_floor, f.rule.good_quality)
            )
            gm = (g_q >= lo) & (g_q < hi)
            im = (f.impostors.q >= lo) & (f.impostors.q < hi)
            n = f.impostors.total_by_tier[tier]
            a, v = f.rule.accept_edge(tier, "search"), f.rule.accept_edge(tier, "verify")
            rows.append(
                [
                    f"`{r['model']}`",
                    tier,
                    f"{n:,}",
                    f"{a:.3f}: {int((f.impostors.r[im] <= a).sum())} FA; {pct(np.mean(g_r[gm] <= a))} of {gm.sum():,}",
                    f"{v:.3f}: {int((f.impostors.r[im] <= v).sum())} FA; {pct(np.mean(g_r[gm] <= v))}",
                    f"{f.rule.accept_edge(tier, 'identify'):.3f}, margin {f.rule.identify_margin:.3f}",
                ]
            )
    parts.append(
        markdown_table(
            [
                "model",
                "tier",
                "impostor comparisons",
                "search edge: false accepts; same-person pairs accepted",
                "verify edge: false accepts; same-person accepted",
                "identify edge, margin",
            ],
            rows,
        )
    )
    code = ", ".join(f"`{r['model']}` {'equals' if r['matches_code'] else 'DIFFERS FROM'}" for r in results)
    parts.append(f"The fitted rule: {code} `facecore.quality.MATCH_RULES`.")
    parts.append('### Verification of lfw-dev\'s pairs through the rule (`decide(purpose="verify")`)')
    rows = []
    for r in results:
        for when in ("before", "after"):
            v = r["verify"][when]
            rows.append(
                [
                    f"`{r['model']}`",
                    "before (issue 14's rule)" if when == "before" else "after",
                    f"{v['same_verified']} / {v['same']} ({pct(v['same_verified'] / v['same'])})",
                    f"{v['same_uncertain']}",
                    f"{v['different_verified']} / {v['different']}",
                ]
            )
    parts.append(
        markdown_table(
            ["model", "rule", "same-person verified", "same-person uncertain", "different verified"], rows
        )
    )
    rows = [
        [f"`{r['model']}`", f"{far:g}", f"{edge:.3f}", pct(same), str(diff)]
        for r in results
        for far, edge, same, diff in r["verify_curve"]
    ]
    parts.append(
        "The verify edge's trade-off (good tier: the pairs whose two faces are both in it): false-accept rate "
        "per comparison on lfw-dev's impostors, the edge it gives, and lfw-dev's pairs within it.\n\n"
        + markdown_table(["model", "FAR", "edge", "same-person pairs within", "different pairs within"], rows)
    )
    parts.append(
        "### Open-set identification (`MatchRule.identify` on subject templates, the shipped rule)\n\n"
        "Enrolled: people with more photos than the examples drawn (822 with two or more photos); "
        "their other photos are the probes. Strangers: the single-photo people (2,728, in two halves: "
        "one half fills galleries beyond 822 people as subjects without probes, the other are strangers, "
        f"then swapped); {2 * len(SEEDS)} draws per row. Degraded copies are probes of their person and, with "
        'their person left out of the gallery, strangers. "all": 822 people plus 1,364 distractors.'
    )
    for r in results:
        rows = [
            open_row(f"{g}, {per}", o)
            for (g, per), o in sorted(r["open"].items(), key=lambda kv: (kv[0][1], _gallery_order(kv[0][0])))
        ]
        parts.append(f"`{r['model']}`:\n\n" + markdown_table(OPEN_HEADER, rows))
    parts.append(
        f"### What each option gives (gallery {FIT_GALLERY:,}; identification edge and margin refitted "
        f"for each option to the same {PROBE_RATE:.1%} rates)"
    )
    rows = []
    for r in results:
        for (label, per), value in r["options"].items():
            rule, o = (None, value) if label == "before" else value
            edge = "" if rule is None else f"{rule.identify_good:.3f} / {rule.identify_margin:.3f}"
            if label == "before":
                label = "before: issue 14's rule, nearest example, no margin"
            rows.append(
                [
                    f"`{r['model']}`",
                    label,
                    str(per),
                    edge,
                    pct(o.right_rate),
                    f"{o.wrong}",
                    f"{o.strangers_named} / {o.strangers:,}",
                    f"{o.degraded_strangers_named} / {o.degraded_strangers:,}",
                ]
            )
    parts.append(
        markdown_table(
            [
                "model",
                "option",
                "examples",
                "edge / margin",
                "named right",
                "named wrong",
                "strangers named",
                "degraded strangers named",
            ],
            rows,
        )
    )
    parts.append(
        "### Example photos with several faces (bulk import, `POST /subjects/{name}/faces`)\n\n"
        f"lfw-dev: {dominant['several']:,} of {dominant['images']:,} images have more than one face; "
        f"{dominant['refused_before']:,} have two or more above the quality floor and were refused "
        f"(`more_than_one_face`) before. With `facecore.quality.dominant_face` {dominant['refused_after']:,} "
        f"are refused; {dominant['enrolled_right']:,} enrol the labelled person's face, "
        f"{dominant['enrolled_wrong']:,} another face."
    )
    return "\n\n".join(p.strip() for p in parts)


def _gallery_order(label: str) -> int:
    return {"100": 0, "300": 1, "1,000": 2, "all": 3}[label]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--refresh", action="store_true", help="recompute faces and embeddings")
    parser.add_argument("--fit", action="store_true", help="print the fitted MATCH_RULES entries")
    parser.add_argument("--no-write", action="store_true", help="print instead of writing docs/benchmarks.md")
    args = parser.parse_args(argv)
    if not (lfw_data.lfw_root() / "pairs.tsv").exists():
        sys.exit(
            f"lfw-dev not found in {lfw_data.lfw_root()}; set FACECORE_SHARED_DIR to the folder that holds datasets/."
        )
    results = [model_report(m, args.refresh, args.fit) for m in args.models]
    dominant = dominant_counts(lfw_data.detect_all())
    publish(HEADING, report(results, dominant), write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
