"""``python -m facecore``: detect, compare, models. Its JSON output is a contract other tools use.

Exit codes: 0 success, 1 an image (or model) failed, 2 bad command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from facecore.errors import ImageError, ModelUnavailableError

EXIT_OK = 0
EXIT_FAILED = 1


def annotate_paths(out: Path, count: int) -> list[Path]:
    """One output path per input image: ``out`` itself for one image, else ``OUT-<n>.jpg`` (n from 1)."""
    if count == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{n}{out.suffix or '.jpg'}") for n in range(1, count + 1)]


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImageError("unreadable_file", f"Cannot read {path}: {exc.strerror or exc}") from exc


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def cmd_detect(args: argparse.Namespace) -> int:
    from facecore.engine import get_engine

    engine = get_engine()
    entries: list[dict[str, Any]] = []
    decoded = {}
    for index, path in enumerate(args.images):
        try:
            decoded[index] = engine.decode(_read(path))
        except ImageError as exc:
            entries.append({"image": path, "error": exc.to_dict()})
        else:
            entries.append({"image": path})
    order = sorted(decoded)
    results = engine.detect(
        [decoded[i] for i in order],
        det_prob_threshold=args.det_prob_threshold,
        min_face_size=args.min_face_size,
        limit=args.limit,
    )
    outputs = annotate_paths(Path(args.annotate), len(args.images)) if args.annotate else []
    for index, result in zip(order, results, strict=True):
        entries[index].update(
            width=result.width, height=result.height, faces=[f.to_dict() for f in result.faces]
        )
        if outputs:
            from facecore.draw import annotate

            outputs[index].write_bytes(annotate(decoded[index], result.faces))
    if args.json:
        _print_json(entries)
    else:
        for entry in entries:
            _print_human_detect(entry)
        for index in order if outputs else []:
            print(f"annotated {args.images[index]} -> {outputs[index]}")
    return EXIT_FAILED if any("error" in e for e in entries) else EXIT_OK


def _print_human_detect(entry: dict[str, Any]) -> None:
    if "error" in entry:
        print(f"{entry['image']}: error {entry['error']['code']}: {entry['error']['message']}")
        return
    faces = entry["faces"]
    print(f"{entry['image']}: {entry['width']}x{entry['height']}, {len(faces)} face(s)")
    for n, face in enumerate(faces, 1):
        b = face["box"]
        marks = " ".join(f"{k}=({v[0]:.0f},{v[1]:.0f})" for k, v in face["landmarks"].items())
        print(
            f"  face {n}: box ({b['x_min']},{b['y_min']})-({b['x_max']},{b['y_max']}) "
            f"p={face['probability']:.3f} {marks}"
        )


def cmd_compare(args: argparse.Namespace) -> int:
    from facecore.engine import get_engine

    engine = get_engine()
    try:
        images = [engine.decode(_read(p)) for p in (args.a, args.b)]
        comparison = engine.compare(images[0], images[1], model=args.model)
    except (ImageError, ModelUnavailableError) as exc:
        error = {"code": exc.code, "message": str(exc)}
        if args.json:
            _print_json({"a": args.a, "b": args.b, "error": error})
        else:
            print(f"error {error['code']}: {error['message']}", file=sys.stderr)
        return EXIT_FAILED
    out = {"a": args.a, "b": args.b, **comparison.to_dict()}
    if args.json:
        _print_json(out)
    else:
        verdict = "same person" if comparison.verified else "different people"
        print(
            f"{verdict}: distance {comparison.distance:.4f} (threshold {comparison.threshold:.4f}, "
            f"model {comparison.model}), similarity {comparison.similarity:.3f}"
        )
    return EXIT_OK


def _model_rows() -> list[dict[str, Any]]:
    """Name, dimension, threshold and weights presence of each registered model, without loading any."""
    import facecore.embedders as registry
    from facecore.fetch import weights_present
    from facecore.settings import default_models_dir

    models_dir = default_models_dir()
    rows = []
    for name in registry.MODEL_NAMES:
        info = registry.embedder_class(name)  # class attributes only: no weights are loaded
        rows.append(
            {
                "name": name,
                "dimension": info.dimension,
                "threshold": info.threshold,
                "weights_present": weights_present(name, models_dir),
            }
        )
    return rows


def cmd_models_list(args: argparse.Namespace) -> int:
    rows = _model_rows()
    if args.json:
        _print_json(rows)
        return EXIT_OK
    print(f"{'name':<12} {'dim':>5} {'threshold':>10}  weights")
    for row in rows:
        threshold = f"{row['threshold']:.4f}" if row["threshold"] is not None else "?"
        print(
            f"{row['name']:<12} {row['dimension'] or '?':>5} {threshold:>10}  "
            f"{'present' if row['weights_present'] else 'missing (run: python -m facecore models fetch ' + row['name'] + ')'}"
        )
    return EXIT_OK


def cmd_models_fetch(args: argparse.Namespace) -> int:
    import facecore.embedders as registry
    from facecore.fetch import fetch_model
    from facecore.settings import default_models_dir

    models_dir = default_models_dir()
    names = [args.name] if args.name else list(registry.MODEL_NAMES)
    failed = False
    for name in names:
        try:
            path = fetch_model(name, models_dir, progress=True)
        except Exception as exc:  # report every model, then fail
            failed = True
            print(f"{name}: failed: {exc}", file=sys.stderr)
        else:
            print(f"{name}: {path}")
    return EXIT_FAILED if failed else EXIT_OK


def _model_names() -> tuple[str, ...]:
    from facecore.embedders import MODEL_NAMES  # cheap: model modules import TensorFlow lazily

    return MODEL_NAMES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m facecore", description="Face detection and recognition.")
    sub = parser.add_subparsers(dest="command", required=True)

    detect = sub.add_parser("detect", help="find faces in images")
    detect.add_argument("images", nargs="+", metavar="IMAGE")
    detect.add_argument("--json", action="store_true", help="machine-readable output")
    detect.add_argument(
        "--annotate",
        metavar="OUT.jpg",
        help="write a JPEG with boxes drawn; with several images, OUT-1.jpg, OUT-2.jpg, ... (argument order)",
    )
    detect.add_argument("--det-prob-threshold", type=float, default=None)
    detect.add_argument("--min-face-size", type=int, default=None, help="in detection-image pixels")
    detect.add_argument("--limit", type=int, default=0, help="keep the N largest faces (0 = all)")
    detect.set_defaults(func=cmd_detect)

    compare = sub.add_parser("compare", help="same person? (largest face of each image)")
    compare.add_argument("a", metavar="A")
    compare.add_argument("b", metavar="B")
    compare.add_argument(
        "--model",
        default=None,
        choices=_model_names(),
        help="embedding model (default: FACECORE_DEFAULT_MODEL)",
    )
    compare.add_argument("--json", action="store_true")
    compare.set_defaults(func=cmd_compare)

    models = sub.add_parser("models", help="list or fetch embedding model weights")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    listing = models_sub.add_parser("list", help="name, dimension, threshold, weights present")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_models_list)
    fetch = models_sub.add_parser("fetch", help="download weights (all models when NAME is omitted)")
    fetch.add_argument("name", nargs="?", metavar="NAME")
    fetch.set_defaults(func=cmd_models_fetch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
