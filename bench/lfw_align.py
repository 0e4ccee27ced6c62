"""Does a 5-landmark similarity alignment help FaceNet on lfw-dev? (issue 19, item 3; a one-off)

The aligned crop maps the detector's five landmarks, by the least-squares similarity transform
(rotation, uniform scale, shift), onto their mean position in the shipped crop (box + 10 % margin,
160x160), so framing and scale stay what the network was trained on and only roll, scale and
position are normalised. The faces are those of ``bench.lfw_data`` (cached); the aligned embeddings
are cached in ``var/cache/lfw/embeddings-<model>-aligned.npz`` (clean images only). Compared with the
shipped crop: the standard protocol, and open-set identification at gallery 1,000 (one photo each,
subject templates) with the identification edge and margin refitted to the same 0.3 % rates on
strangers and wrong names (no degraded copies here).

    FACECORE_MODELS_DIR=... .venv/bin/python -m bench.lfw_align [--model facenet]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import numpy as np
from PIL import Image

from bench import lfw, lfw_data
from bench import lfw_eval as E
from facecore.quality import MATCH_RULES

POINTS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
SIZE = 160
MARGIN = 0.1


def crop_frame(record: dict) -> np.ndarray:
    """The five landmarks in the shipped crop's 160x160 frame (unclipped box + margin)."""
    x0, y0, x1, y1 = record["box"]
    grow = MARGIN * max(x1 - x0, y1 - y0)
    left, top = x0 - grow, y0 - grow
    side_x, side_y = (x1 - x0) + 2 * grow, (y1 - y0) + 2 * grow
    pts = np.array([record["landmarks"][k] for k in POINTS], dtype=np.float64)
    return np.stack([(pts[:, 0] - left) / side_x * SIZE, (pts[:, 1] - top) / side_y * SIZE], axis=1)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 matrix of the least-squares similarity transform taking ``src`` to ``dst`` (Umeyama)."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ sign @ vt
    scale = np.trace(np.diag(sig) @ sign) / s.var(0).sum()
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = md - m[:, :2] @ ms
    return m


def aligned_crop(pixels: np.ndarray, record: dict, template: np.ndarray) -> np.ndarray:
    pts = np.array([record["landmarks"][k] for k in POINTS], dtype=np.float64)
    m = similarity(pts, template)
    inverse = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]  # PIL maps output -> input
    image = Image.fromarray(pixels)
    out = image.transform(
        (SIZE, SIZE), Image.Transform.AFFINE, inverse.ravel().tolist(), Image.Resampling.BILINEAR
    )
    return np.asarray(out, dtype=np.uint8)


def embed_aligned(model: str, detections: dict) -> np.ndarray:
    path = lfw_data.CACHE / f"embeddings-{model}-aligned.npz"
    if path.exists():
        with np.load(path) as z:
            return z["plain"]
    from facecore.engine import Engine

    records = [r["faces"][r["centre"]] for r in detections["images"]]
    template = np.mean([crop_frame(rec) for rec in records], axis=0)
    engine = Engine()
    embedder = engine.embedder(model)
    root = lfw_data.lfw_root()
    out = np.zeros((len(records), embedder.dimension), np.float32)
    batch: list[tuple[int, np.ndarray]] = []
    start = time.perf_counter()
    for i, r in enumerate(detections["images"]):
        decoded = engine.decode((root / "images" / r["key"]).read_bytes())
        sx, sy = decoded.pixels_scale
        rec = records[i]
        rec = {**rec, "landmarks": {k: [v[0] / sx, v[1] / sy] for k, v in rec["landmarks"].items()}}
        batch.append((i, aligned_crop(decoded.pixels, rec, template)))
        if len(batch) == 64 or i == len(records) - 1:
            rows = [j for j, _ in batch]
            out[rows] = embedder.embed(np.stack([c for _, c in batch]))
            batch.clear()
        if i % 1000 == 0:
            print(
                f"  aligned {i}/{len(records)} {time.perf_counter() - start:.0f}s",
                file=sys.stderr,
                flush=True,
            )
    np.savez(path, plain=out, template=template)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="facenet", choices=lfw.MODELS)
    args = parser.parse_args(argv)
    data = lfw.load(args.model)
    data.emb["aligned"] = E.unit(embed_aligned(args.model, lfw_data.detect_all()))
    data.deg_emb["aligned"] = data.deg_emb["plain"]  # degraded copies are not part of this comparison
    pairs = E.pair_set(data)
    rule = MATCH_RULES[args.model]
    for variant in ("plain", "aligned"):
        m, s, _ = E.protocol(E.pair_distances(data, pairs, variant), pairs)
        rs = lfw.runs(data, lfw.FIT_GALLERY, 1, variant, lfw.SCORING)
        rs2 = lfw.runs(data, lfw.FIT_GALLERY, 2, variant, lfw.SCORING)
        best = None
        for a in lfw.EDGE_GRID:
            for mg in lfw.MARGIN_GRID:
                cand = replace(
                    rule, identify_good=float(a), identify_fair=float(a), identify_margin=float(mg)
                )
                o = lfw.open_set(cand, data.threshold, rs)
                if max(o.stranger_rate, o.wrong_rate) <= lfw.PROBE_RATE and (
                    best is None or o.right > best[0].right
                ):
                    best = (o, cand)
        o, cand = best
        o2 = lfw.open_set(cand, data.threshold, rs2)
        print(
            f"{args.model} {variant}: protocol {100 * m:.2f} % ± {100 * s:.2f}; gallery 1,000 identify "
            f"{cand.identify_good:.3f} / margin {cand.identify_margin:.3f}: one example {o.right_rate:.1%} named right, "
            f"{o.wrong} wrong, {o.strangers_named}/{o.strangers} strangers; two examples {o2.right_rate:.1%}, "
            f"{o2.wrong} wrong, {o2.strangers_named}/{o2.strangers} strangers"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
