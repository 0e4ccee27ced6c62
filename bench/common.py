"""Helpers shared by the benchmarks: the shared photos, image loading, docs/benchmarks.md sections."""

from __future__ import annotations

import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = REPO / "docs" / "benchmarks.md"
BENCHMARKS_TITLE = "# Benchmarks\n"


def shared_dir() -> Path:
    """Read-only shared data: ``$FACECORE_SHARED_DIR``, default ``<repo>/../shared``."""
    return Path(os.environ.get("FACECORE_SHARED_DIR", REPO.parent / "shared"))


def pairs_dir() -> Path:
    return shared_dir() / "datasets" / "deepface-pairs"


def require_pairs_dir() -> Path:
    """The deepface-pairs photos, or exit with a message saying where we looked."""
    path = pairs_dir()
    if not any(path.glob("*.jpg")):
        sys.exit(
            f"The benchmark needs the shared photos in {path} (deepface-pairs/*.jpg); "
            "set FACECORE_SHARED_DIR to the folder that holds datasets/."
        )
    return path


def load_rgb(path: Path, max_side: int | None = None) -> np.ndarray:
    """Decode, apply the EXIF orientation, convert to RGB and downscale to ``max_side`` (longer side)."""
    with Image.open(path) as raw:
        image = ImageOps.exif_transpose(raw).convert("RGB")
    if max_side and max(image.size) > max_side:
        scale = max_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(image)


def machine_summary() -> str:
    """One line: CPU model, core count, Python and TensorFlow versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [f"{cpu}, {os.cpu_count()} cores", f"Python {platform.python_version()}"]
    try:
        import tensorflow as tf

        parts.append(f"TensorFlow {tf.__version__}")
    except ImportError:
        pass
    return ", ".join(parts)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_section(heading: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the section starting at ``heading`` (a ``## `` line) up to the next ``## `` heading,
    or append it; other sections are left exactly as they are. Creates the file if missing."""
    text = path.read_text() if path.exists() else BENCHMARKS_TITLE
    section = f"{heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^{re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
        text = text.rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def publish(heading: str, body: str, *, write: bool) -> None:
    """The benchmarks' ending: the section into docs/benchmarks.md, or printed (``--no-write``)."""
    if not write:
        print(body)
        return
    write_section(heading, body)
    print(f"wrote {heading!r} in docs/benchmarks.md")
