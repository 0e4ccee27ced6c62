"""Decoding: accepted formats, EXIF orientation, bounded size, and every refusal with its code.

No models needed; these run in well under a second each.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from facecore.decode import decode_image, probe
from facecore.errors import ImageError
from facecore.settings import EngineSettings

from .conftest import ENGINE_DEFAULTS
from .images import blank_png, encode, exif_rotated_jpeg


def quadrants(width: int = 96, height: int = 64) -> np.ndarray:
    """Red top-left, green top-right, blue bottom-left, white bottom-right."""
    img = np.zeros((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    img[:h2, :w2] = (255, 0, 0)
    img[:h2, w2:] = (0, 255, 0)
    img[h2:, :w2] = (0, 0, 255)
    img[h2:, w2:] = (255, 255, 255)
    return img


def assert_quadrants(pixels: np.ndarray, tolerance: int = 40) -> None:
    h, w = pixels.shape[:2]
    probes = {
        (h // 4, w // 4): (255, 0, 0),
        (h // 4, 3 * w // 4): (0, 255, 0),
        (3 * h // 4, w // 4): (0, 0, 255),
        (3 * h // 4, 3 * w // 4): (255, 255, 255),
    }
    for (y, x), colour in probes.items():
        assert np.abs(pixels[y, x].astype(int) - colour).max() <= tolerance, ((y, x), pixels[y, x], colour)


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("JPEG", {"quality": 95}),
        ("PNG", {}),
        ("WEBP", {"quality": 95}),
        ("BMP", {}),
        ("GIF", {}),
        ("TIFF", {}),
    ],
)
def test_each_supported_format_decodes_to_rgb(fmt: str, params: dict) -> None:
    decoded = decode_image(encode(quadrants(), fmt, **params), ENGINE_DEFAULTS)
    assert decoded.format == fmt
    assert (decoded.width, decoded.height) == (96, 64)
    assert decoded.pixels.shape == (64, 96, 3)
    assert decoded.pixels.dtype == np.uint8
    assert_quadrants(decoded.pixels)


def test_animated_gif_gives_first_frame() -> None:
    red = Image.new("RGB", (40, 30), (255, 0, 0))
    blue = Image.new("RGB", (40, 30), (0, 0, 255))
    out = io.BytesIO()
    red.save(out, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)
    decoded = decode_image(out.getvalue(), ENGINE_DEFAULTS)
    assert tuple(decoded.pixels[15, 20]) == (255, 0, 0)


@pytest.mark.parametrize("mode", ["L", "CMYK", "P", "RGBA", "LA", "I;16"])
def test_other_pixel_modes_become_rgb(mode: str) -> None:
    img = Image.fromarray(quadrants()).convert(mode) if mode != "I;16" else Image.new("I;16", (96, 64), 40000)
    fmt = {"CMYK": "JPEG"}.get(mode, "TIFF" if mode == "I;16" else "PNG")
    decoded = decode_image(encode(img, fmt), ENGINE_DEFAULTS)
    assert decoded.pixels.shape == (64, 96, 3)
    if mode == "I;16":
        assert abs(int(decoded.pixels[0, 0, 0]) - round(40000 * 255 / 65535)) <= 1


def test_transparent_areas_become_white() -> None:
    img = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    decoded = decode_image(encode(img, "PNG"), ENGINE_DEFAULTS)
    assert tuple(decoded.pixels[10, 10]) == (255, 255, 255)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(orientation: int) -> None:
    decoded = decode_image(exif_rotated_jpeg(quadrants(), orientation), ENGINE_DEFAULTS)
    assert (decoded.width, decoded.height) == (96, 64)
    assert decoded.pixels.shape == (64, 96, 3)
    assert_quadrants(decoded.pixels)


def test_exif_orientation_with_draft_decode_reports_full_upright_size() -> None:
    upright = np.asarray(Image.fromarray(quadrants()).resize((4800, 3200), Image.Resampling.NEAREST))
    decoded = decode_image(exif_rotated_jpeg(upright, 6, quality=70), ENGINE_DEFAULTS)
    assert (decoded.width, decoded.height) == (4800, 3200)
    assert decoded.pixels.shape[1] > decoded.pixels.shape[0]
    assert max(decoded.pixels.shape[:2]) <= 2 * ENGINE_DEFAULTS.detection_max_side
    assert_quadrants(decoded.pixels)


def test_large_photo_is_decoded_at_reduced_size() -> None:
    """A 50-megapixel JPEG never comes back (or is held) at full size."""
    width, height = 8660, 5774
    big = Image.fromarray(quadrants()).resize((width, height), Image.Resampling.BILINEAR)
    data = encode(big, "JPEG", quality=60)
    del big
    decoded = decode_image(data, ENGINE_DEFAULTS)
    assert (decoded.width, decoded.height) == (width, height)
    assert max(decoded.pixels.shape[:2]) == 2 * ENGINE_DEFAULTS.detection_max_side
    assert max(decoded.detection.shape[:2]) == ENGINE_DEFAULTS.detection_max_side
    sx, sy = decoded.detection_scale
    assert sx == pytest.approx(width / decoded.detection.shape[1])
    assert sx == pytest.approx(sy, rel=0.01)
    assert_quadrants(decoded.detection)


def test_small_image_is_not_upscaled() -> None:
    decoded = decode_image(encode(quadrants(), "PNG"), ENGINE_DEFAULTS)
    assert decoded.detection.shape == decoded.pixels.shape == (64, 96, 3)
    assert decoded.detection_scale == (1.0, 1.0)


def refusal(data: bytes, settings: EngineSettings = ENGINE_DEFAULTS) -> ImageError:
    with pytest.raises(ImageError) as info:
        decode_image(data, settings)
    assert info.value.message
    assert info.value.to_dict() == {"code": info.value.code, "message": info.value.message}
    return info.value


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, I am not an image", bytes(range(256)) * 40, b"\xff\xd8\xff\xe0" + b"\x00" * 50],
    ids=["empty", "text", "noise", "jpeg-magic-then-zeros"],
)
def test_garbage_is_not_an_image(data: bytes) -> None:
    assert refusal(data).code == ImageError.NOT_AN_IMAGE


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file_is_not_an_image(fmt: str, astronaut: np.ndarray) -> None:
    data = encode(astronaut, fmt)
    assert refusal(data[: len(data) // 2]).code == ImageError.NOT_AN_IMAGE


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("ICO", {}), ("PDF", {}), ("EPS", {}), ("TGA", {}), ("PCX", {}), ("JPEG2000", {})],
)
def test_real_image_in_an_unaccepted_format_is_unsupported(fmt: str, params: dict) -> None:
    data = encode(Image.fromarray(quadrants()), fmt, **params)
    error = refusal(data)
    assert error.code == ImageError.UNSUPPORTED_FORMAT
    assert "JPEG" in error.message  # tells the user what to send instead


def test_heic_signature_is_unsupported() -> None:
    data = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
    assert refusal(data).code == ImageError.UNSUPPORTED_FORMAT


def test_over_the_byte_limit_is_image_too_large() -> None:
    data = encode(quadrants(), "PNG")
    settings = EngineSettings(max_image_bytes=len(data) - 1)
    assert refusal(data, settings).code == ImageError.IMAGE_TOO_LARGE
    assert decode_image(data, EngineSettings(max_image_bytes=len(data))).width == 96


@pytest.fixture
def pixel_loads(monkeypatch: pytest.MonkeyPatch) -> list:
    """Records every pixel decode Pillow starts (a spy around ImageFile.load; it still decodes)."""
    calls: list = []
    real_load = ImageFile.ImageFile.load

    def spy(self):
        calls.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


def test_100_megapixel_header_is_refused_without_decoding(pixel_loads: list) -> None:
    data = blank_png(10_000, 10_000)
    assert len(data) < 100_000  # tiny file, huge image
    error = refusal(data)
    assert error.code == ImageError.TOO_MANY_PIXELS
    assert "10000x10000" in error.message
    assert pixel_loads == []


def test_decompression_bomb_is_too_many_pixels(pixel_loads: list) -> None:
    """Far past Pillow's own bomb limit too: refused at the header, nothing decoded."""
    data = blank_png(40_000, 40_000)
    assert refusal(data).code == ImageError.TOO_MANY_PIXELS
    assert pixel_loads == []


def test_pixel_limit_is_a_setting() -> None:
    data = blank_png(300, 200)
    assert refusal(data, EngineSettings(max_image_pixels=59_999)).code == ImageError.TOO_MANY_PIXELS
    assert decode_image(data, EngineSettings(max_image_pixels=60_000)).width == 300


def test_a_small_pixel_limit_does_not_leak_into_other_pillow_users() -> None:
    """One caller's limit must not make Pillow refuse ordinary images elsewhere in the process."""
    assert (
        refusal(blank_png(300, 200), EngineSettings(max_image_pixels=1_000)).code
        == ImageError.TOO_MANY_PIXELS
    )
    with Image.open(io.BytesIO(blank_png(512, 512))) as img:
        img.load()
    assert img.size == (512, 512)


def test_probe_reads_the_header_without_decoding(pixel_loads: list) -> None:
    assert probe(encode(quadrants(), "PNG")) == ("PNG", 96, 64)
    assert probe(exif_rotated_jpeg(quadrants(), 6)) == ("JPEG", 64, 96)  # as stored, before EXIF
    assert pixel_loads == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"definitely not an image", ImageError.NOT_AN_IMAGE),
        (blank_png(10_000, 10_000), ImageError.TOO_MANY_PIXELS),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100, ImageError.UNSUPPORTED_FORMAT),
    ],
)
def test_probe_refuses_with_the_same_codes_as_decode(data: bytes, code: str) -> None:
    with pytest.raises(ImageError) as probed:
        probe(data)
    assert probed.value.code == code == refusal(data).code
