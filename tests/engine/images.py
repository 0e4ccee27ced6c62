"""Test images made on the fly: encodings, EXIF rotation, cheap huge-header PNGs."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

ORIENTATION = 0x0112

# EXIF orientation -> how the stored pixels relate to the upright view. Storing
# ``upright.transpose(STORE[o])`` with tag ``o`` makes a viewer show ``upright`` again.
STORE_TRANSPOSE = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,  # stored rotated 90 CCW; viewer rotates 90 CW
    8: Image.Transpose.ROTATE_270,
}


def encode(image: Image.Image | np.ndarray, fmt: str = "JPEG", **params) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def exif_rotated_jpeg(upright: np.ndarray, orientation: int, quality: int = 95) -> bytes:
    """A JPEG whose stored pixels are rotated but whose EXIF tag makes it display as ``upright``."""
    stored = Image.fromarray(upright).transpose(STORE_TRANSPOSE[orientation])
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return encode(stored, "JPEG", quality=quality, exif=exif.tobytes())


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def blank_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of any size, tiny on disk (all-black rows compress ~1000:1).

    Built by hand, row by row, so making a 100-megapixel file never allocates its pixels.
    """
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    parts = []
    rows_per_step = max(1, (1 << 22) // len(row))
    for start in range(0, height, rows_per_step):
        parts.append(compressor.compress(row * min(rows_per_step, height - start)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )
