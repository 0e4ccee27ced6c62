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


CHUNK = 4
"""Images decoded and detected together: small, so results stream out and memory stays flat."""


def _progress(total: int):
    """A tqdm bar on stderr when it is a terminal (rate, ETA); None otherwise (pipes, logs, tests)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="img", file=sys.stderr, dynamic_ncols=True)


def _detect_chunk(
    engine, paths: list[str], args: argparse.Namespace
) -> list[tuple[dict[str, Any], Any, Any]]:
    """``(entry, decoded image, engine result)`` per path of one chunk, in order (None, None on error)."""
    decoded: dict[int, Any] = {}
    entries: list[dict[str, Any]] = []
    for index, path in enumerate(paths):
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
    by_index = dict(zip(order, results, strict=True))
    for index, result in by_index.items():
        entries[index].update(
            width=result.width, height=result.height, faces=[f.to_dict() for f in result.faces]
        )
    return [(entry, decoded.get(i), by_index.get(i)) for i, entry in enumerate(entries)]


def cmd_detect(args: argparse.Namespace) -> int:
    """Each image's result is printed as soon as its chunk is done (JSON lines with ``--json``);
    decoded images are dropped after their chunk, so memory does not grow with the image count."""
    from facecore.engine import get_engine

    engine = get_engine()
    paths: list[str] = args.images
    outputs = annotate_paths(Path(args.annotate), len(paths)) if args.annotate else []
    bar = _progress(len(paths))
    failed = False
    try:
        for start in range(0, len(paths), CHUNK):
            chunk = _detect_chunk(engine, paths[start : start + CHUNK], args)
            for offset, (entry, decoded, result) in enumerate(chunk):
                failed = failed or "error" in entry
                _emit(entry, args.json, bar)
                if outputs and result is not None:
                    from facecore.draw import annotate

                    out = outputs[start + offset]
                    out.write_bytes(annotate(decoded, result.faces))
                    if not args.json:
                        _write(f"annotated {entry['image']} -> {out}", bar)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return EXIT_FAILED if failed else EXIT_OK


def _write(line: str, bar) -> None:
    """One line of output, flushed now (a reader of the pipe sees it at once), clear of the bar."""
    if bar is not None:
        bar.clear()
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    if bar is not None:
        bar.refresh()


def _emit(entry: dict[str, Any], as_json: bool, bar) -> None:
    if as_json:
        _write(json.dumps(entry), bar)
    else:
        _write("\n".join(_human_detect(entry)), bar)


def _human_detect(entry: dict[str, Any]) -> list[str]:
    if "error" in entry:
        return [f"{entry['image']}: error {entry['error']['code']}: {entry['error']['message']}"]
    faces = entry["faces"]
    lines = [f"{entry['image']}: {entry['width']}x{entry['height']}, {len(faces)} face(s)"]
    for n, face in enumerate(faces, 1):
        b = face["box"]
        marks = " ".join(f"{k}=({v[0]:.0f},{v[1]:.0f})" for k, v in face["landmarks"].items())
        lines.append(
            f"  face {n}: box ({b['x_min']},{b['y_min']})-({b['x_max']},{b['y_max']}) "
            f"p={face['probability']:.3f} {marks}"
        )
    return lines


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
    if not failed:
        failed = _convert(["mtcnn", *names], models_dir)
    return EXIT_FAILED if failed else EXIT_OK


def _convert(names: list[str], models_dir) -> bool:
    """Make the ONNX files of ``names`` that have an ONNX form (facecore.onnx_models); True if any failed."""
    from facecore.onnx_models import ONNX_MODELS, convert, converted

    failed = False
    for name in [n for n in dict.fromkeys(names) if n in ONNX_MODELS]:
        if converted(name, models_dir):
            print(f"{name}: ONNX files present and verified")
            continue
        try:
            paths = convert(name, models_dir)
        except Exception as exc:  # report every model, then fail
            failed = True
            print(f"{name}: ONNX conversion failed: {exc}", file=sys.stderr)
        else:
            print(f"{name}: converted to {', '.join(str(p) for p in paths)}")
    return failed


def cmd_models_convert(args: argparse.Namespace) -> int:
    import facecore.embedders as registry
    from facecore.settings import default_models_dir

    names = [args.name] if args.name else ["mtcnn", *registry.MODEL_NAMES]
    return EXIT_FAILED if _convert(names, default_models_dir()) else EXIT_OK


def _model_names() -> tuple[str, ...]:
    from facecore.embedders import MODEL_NAMES  # cheap: model modules import TensorFlow lazily

    return MODEL_NAMES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m facecore", description="Face detection and recognition.")
    sub = parser.add_subparsers(dest="command", required=True)

    detect = sub.add_parser("detect", help="find faces in images")
    detect.add_argument("images", nargs="+", metavar="IMAGE")
    detect.add_argument(
        "--json", action="store_true", help="JSON lines: one object per image, printed as it is done"
    )
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
    fetch = models_sub.add_parser(
        "fetch", help="download weights (all models when NAME is omitted), then convert them to ONNX"
    )
    fetch.add_argument("name", nargs="?", metavar="NAME")
    fetch.set_defaults(func=cmd_models_fetch)
    convert = models_sub.add_parser(
        "convert",
        help="write the ONNX files of MTCNN and the fetched models (fetch does this too)",
    )
    convert.add_argument("name", nargs="?", metavar="NAME")
    convert.set_defaults(func=cmd_models_convert)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
