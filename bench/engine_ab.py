"""Before/after: the engine on TensorFlow (before) and on the default runtime (after), each in a
process of its own, taking turns on the same photos.

In one process the two runtimes slow each other: TensorFlow's thread pools keep spinning for a
while after each call and take the cores from whatever runs next (and OpenVINO's do the same to
TensorFlow). So each runtime gets a child process with its engine warm, and the parent hands
them the same chunk of photos in turn (A B, then B A for the next chunk), so a busy neighbour on
a shared machine slows both alike. Each child times its own calls; faces are compared at the end.

    .venv/bin/python -m bench.engine_ab               # -> docs/benchmarks.md "## Engine before/after"
    .venv/bin/python -m bench.engine_ab --limit 16 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import (  # noqa: E402
    load_average,
    machine_summary,
    markdown_table,
    require_pairs_dir,
    utc_now,
    write_section,
)

HEADING = "## Engine before/after"
RUNTIMES = ("tensorflow", "auto")
MODES = ("detect 1", "detect 8", "analyze 1", "analyze 8")

CHILD = r"""
import json, sys, time
from pathlib import Path
from facecore.engine import Engine
engine = Engine()
paths = sorted(Path(sys.argv[1]).glob("*.jpg"))[: int(sys.argv[2]) or None]
decoded = [engine.decode(p.read_bytes()) for p in paths]
engine.analyze(decoded[:8]); engine.detect(decoded[:1]); engine.analyze(decoded[:1])
faces = {}
print(json.dumps({"ready": len(decoded), "detector": engine.detector.name,
                  "executor": getattr(engine.embedder(), "executor", "tensorflow")}), flush=True)
for line in sys.stdin:
    mode, start, stop = line.split()
    what, per_call = mode.split(":")
    call = engine.detect if what == "detect" else engine.analyze
    chunk = decoded[int(start):int(stop)]
    t = time.perf_counter()
    out = []
    for i in range(0, len(chunk), int(per_call)):
        out += call(chunk[i:i + int(per_call)])
    elapsed = time.perf_counter() - t
    if what == "detect":
        for k, r in enumerate(out):
            faces[int(start) + k] = [[f.box.x_min, f.box.y_min, f.box.x_max, f.box.y_max, f.probability] for f in r.faces]
    print(json.dumps({"s": elapsed, "faces": sum(len(r.faces) for r in out)}), flush=True)
print(json.dumps({"faces": faces}), flush=True)
"""


def agreement(a: dict, b: dict) -> str:
    total = same = 0
    box = prob = 0.0
    for key, faces in a.items():
        other = b.get(key, [])
        total += len(faces)
        if len(other) != len(faces):
            continue
        for fa, fb in zip(faces, other, strict=True):
            box = max(box, max(abs(x - y) for x, y in zip(fa[:4], fb[:4], strict=True)))
            prob = max(prob, abs(fa[4] - fb[4]))
            same += 1
    return f"{same}/{total} same faces, max box Δ {box:.0f} px (whole pixels), max Δp {prob:.5f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    folder = require_pairs_dir()
    load_before = load_average()
    children, info = {}, {}
    for runtime in RUNTIMES:
        env = {**os.environ, "FACECORE_RUNTIME": runtime, "TF_CPP_MIN_LOG_LEVEL": "2"}
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(folder), str(args.limit)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        children[runtime] = child
        info[runtime] = json.loads(child.stdout.readline())
    n = info[RUNTIMES[0]]["ready"]
    seconds = {(r, m): 0.0 for r in RUNTIMES for m in MODES}
    faces = {(r, m): 0 for r in RUNTIMES for m in MODES}
    for turn, start in enumerate(range(0, n, 8)):
        order = RUNTIMES if turn % 2 == 0 else RUNTIMES[::-1]
        for mode in MODES:
            for runtime in order:
                child = children[runtime]
                child.stdin.write(f"{mode.replace(' ', ':')} {start} {min(start + 8, n)}\n")
                child.stdin.flush()
                answer = json.loads(child.stdout.readline())
                seconds[runtime, mode] += answer["s"]
                faces[runtime, mode] += answer["faces"]
    found = {}
    for runtime, child in children.items():
        child.stdin.close()
        found[runtime] = {int(k): v for k, v in json.loads(child.stdout.readline())["faces"].items()}
        child.wait()
    before, after = RUNTIMES
    rows = []
    for mode in MODES:
        what, per_call = mode.split()
        label = (
            f"`Engine.{what}`"
            + (" (facenet)" if what == "analyze" else "")
            + f", {per_call} image(s) per call"
        )
        b, a = n / seconds[before, mode], n / seconds[after, mode]
        rows.append(
            [
                label,
                f"{b:.2f}",
                f"{a:.2f}",
                f"{a / b:.2f}x",
                str(faces[before, mode]),
                str(faces[after, mode]),
            ]
        )
    table = markdown_table(
        [
            "run",
            "before: TensorFlow images/s",
            "after: default runtime images/s",
            "after/before",
            "faces before",
            "faces after",
        ],
        rows,
    )
    body = "\n".join(
        [
            f"Measured {utc_now()} on {machine_summary()}; load average before/after: {load_before} / {load_average()}.",
            "",
            f"Command: `python -m bench.engine_ab{' --limit ' + str(args.limit) if args.limit else ''}`",
            "",
            f"The {n} deepface-pairs photos decoded by `Engine.decode` beforehand; before = `FACECORE_RUNTIME=tensorflow` "
            f"(`{info[before]['detector']}`, {info[before]['executor']}), after = the default `auto` "
            f"(`{info[after]['detector']}`, {info[after]['executor']}); each in its own process, taking turns "
            "chunk by chunk (8 photos), so both see the same load.",
            "",
            table,
            "",
            f"Faces (detect, one image per call): {agreement(found[before], found[after])}.",
        ]
    )
    print(body)
    if not args.no_write:
        write_section(HEADING, body + "\n")
        print("updated docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
