"""What a model's distances allow at best on lfw-dev, whatever the decision rule's edges: the
upper bound the shipped rule (``bench.lfw``) is measured against -> docs/benchmarks.md
"## LFW: the models' ceiling".

* Verification: the share of lfw-dev's same-person pairs closer than its closest different-person
  pair (any single distance edge that verifies no different pair verifies at most these), with
  and without the quality floor the service keeps.
* Open-set identification, one photo per person (subject templates, as the service scores): for
  every identify edge and runner-up margin on a grid (no quality tiers), the share of enrolled
  people's other photos named right while at most a given share of strangers is named and of
  enrolled photos named wrong; the best over the grid at each rate. Same draws as ``bench.lfw``.

    FACECORE_SHARED_DIR=../shared .venv/bin/python -m bench.lfw_ceiling [--models facenet] [--no-write]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from bench import lfw
from bench import lfw_eval as E
from bench.common import load_average, machine_summary, markdown_table, publish, utc_now
from facecore.quality import MATCH_RULES

HEADING = "## LFW: the models' ceiling"
GALLERY = 300
RATES = (0.0, 0.001, 0.003, 0.01)
EDGES = np.round(np.arange(0.50, 1.2001, 0.0125), 4)
MARGINS = np.round(np.arange(0.0, 0.5001, 0.0125), 4)


@dataclass
class Ceiling:
    rate: float
    named_right: float
    edge: float
    margin: float
    wrong: int
    strangers_named: int


def verify_ceiling(data: E.Lfw, floor: float | None) -> tuple[float, int]:
    """Share of same-person pairs closer than the closest different pair; the pairs counted."""
    pairs = E.pair_set(data)
    keep = np.ones(len(pairs.same), bool)
    if floor is not None:
        keep = (data.q[pairs.a] >= floor) & (data.q[pairs.b] >= floor)
    d = E.pair_distances(data, pairs, lfw.VARIANT)
    closest_different = d[~pairs.same].min()
    same = pairs.same
    return float(((d < closest_different) & same & keep).sum() / same.sum()), int(len(d))


def identify_ceiling(data: E.Lfw, size: int, floor: float) -> tuple[list[Ceiling], int, int]:
    runs = lfw.runs(data, size, 1, lfw.VARIANT, lfw.SCORING)
    p1 = np.concatenate([r.probes.r1 for r in runs])
    p2 = np.concatenate([r.probes.r2 for r in runs])
    right = np.concatenate([r.probe_right for r in runs])
    pq = np.concatenate([r.probe_q for r in runs]) >= floor
    s1 = np.concatenate([r.strangers.r1 for r in runs])
    s2 = np.concatenate([r.strangers.r2 for r in runs])
    sq = np.concatenate([r.stranger_q for r in runs]) >= floor
    best = {rate: Ceiling(rate, 0.0, 0.0, 0.0, 0, 0) for rate in RATES}
    for edge in EDGES:
        for margin in MARGINS:
            named = pq & (p1 <= edge) & (p2 - p1 >= margin - 1e-9)
            strangers = int((sq & (s1 <= edge) & (s2 - s1 >= margin - 1e-9)).sum())
            rate_right = float((named & right).mean())
            wrong = int((named & ~right).sum())
            for rate in RATES:
                fits = strangers <= rate * len(s1) and wrong <= rate * len(p1)
                if fits and rate_right > best[rate].named_right:
                    best[rate] = Ceiling(rate, rate_right, float(edge), float(margin), wrong, strangers)
    return list(best.values()), len(p1), len(s1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["facenet"], choices=lfw.MODELS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    verify_rows, identify_rows = [], []
    counts = (0, 0)
    for model in args.models:
        data = lfw.load(model)
        rule = MATCH_RULES[model]
        raw, n_pairs = verify_ceiling(data, None)
        floored, _ = verify_ceiling(data, rule.quality_floor)
        verify_rows.append([f"`{model}`", f"{n_pairs:,}", f"{raw:.1%}", f"{floored:.1%}"])
        ceilings, n_probes, n_strangers = identify_ceiling(data, GALLERY, rule.quality_floor)
        counts = (n_probes, n_strangers)
        for c in ceilings:
            found = c.named_right > 0
            identify_rows.append(
                [
                    f"`{model}`",
                    "0" if c.rate == 0 else f"≤ {c.rate:.1%}",
                    f"{c.named_right:.1%}" if found else "0 (every rule that names a probe names a stranger)",
                    f"{c.edge:.4g} / {c.margin:.4g}" if found else "—",
                    str(c.wrong),
                    f"{c.strangers_named} / {n_strangers:,}",
                ]
            )
        print(
            f"{model}: verify {raw:.3f}/{floored:.3f}; identify {[round(c.named_right, 3) for c in ceilings]}"
        )
    body = (
        f"Measured {utc_now()} on {machine_summary()}; load {load_average()}. `python -m bench.lfw_ceiling` "
        "(the faces and embeddings cached by `bench/lfw_data.py`).\n\n"
        "Verification: lfw-dev's same-person pairs closer than its closest different-person pair, of all "
        "same-person pairs (a single distance edge that verifies none of the different pairs verifies at "
        "most these); then the same with both faces above the service's quality floor.\n\n"
        + markdown_table(["model", "pairs", "same-person pairs below every different pair", "and above the quality floor"], verify_rows)
        + f"\nOpen-set identification, gallery {GALLERY}, one photo per person, subject templates, the draws of "
        f"`bench.lfw` ({counts[0]:,} probes of enrolled people, {counts[1]:,} strangers): the most probes named "
        "right by any identify edge and runner-up margin on a grid (edges 0.5-1.2 and margins 0-0.5 in "
        "steps of 0.0125, one edge for all quality tiers, the quality floor kept) while naming at most the "
        "given share of the strangers and of the enrolled probes wrongly.\n\n"
        + markdown_table(["model", "strangers named, named wrong", "named right (best)", "edge / margin", "named wrong", "strangers named"], identify_rows)
    )  # fmt: skip
    publish(HEADING, body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
