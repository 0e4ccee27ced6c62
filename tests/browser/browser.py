"""Real processes for the browser tests: the API under gunicorn as docker-compose runs it
(DJANGO_DEBUG=false, static files through whitenoise after collectstatic), pointed at the test
database, and the system Chromium driven headless through its chromedriver (Selenium).

``make screenshots`` runs the browser test with FACECORE_SCREENSHOTS_DIR=docs/screenshots, so the
pictures in the docs are what the test saw.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests
from PIL import Image as PILImage

from tests.pipeline.services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER_CANDIDATES = ("chromedriver",)
INSTALL_HINT = "apt-get install -y chromium chromium-driver (make browser-deps)"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Nothing but this machine resolves: /api/docs must render offline.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
)
WINDOW = (1280, 900)
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, or None when either is missing."""
    chromium = next((p for p in map(shutil.which, CHROMIUM_CANDIDATES) if p), None)
    driver = next((p for p in map(shutil.which, CHROMEDRIVER_CANDIDATES) if p), None)
    return (chromium, driver) if chromium and driver else None


def start_chromium(chromium: str, chromedriver: str, profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(60)
    return driver


def database_url(settings_dict: dict) -> str:
    """The test database as a DATABASE_URL (the embedded server listens on a Unix socket)."""
    host = settings_dict.get("HOST") or ""
    port = settings_dict.get("PORT") or ""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    location = quote(host, safe="") + (f":{port}" if port else "")
    return f"postgres://{credentials}{location}/{settings_dict['NAME']}"


@dataclass
class Server:
    base: str
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def server_environment(extra: dict[str, str], data_dir: Path) -> dict[str, str]:
    """A clean environment for the server: only the settings given here (as compose does)."""
    env = {k: v for k, v in os.environ.items() if k in INHERITED}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        FACECORE_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workdir: Path, timeout: float = 90) -> Iterator[Server]:
    """collectstatic, then gunicorn with ``config/gunicorn.py`` (docker-compose's and runall's command)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT, env=env, check=True, timeout=300,
    )  # fmt: skip
    port = free_port()
    log = workdir / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn", "--bind", f"127.0.0.1:{port}",
             "--access-logfile", "-"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_for_port(port, timeout, process)
        deadline = time.monotonic() + timeout
        while requests.get(f"{server.base}/healthz", timeout=10).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn never answered /healthz:\n" + server.tail())
            time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def small_png(png: bytes, colours: int = 256) -> bytes:
    """A screenshot made small for the docs: a palette of ``colours``, optimized."""
    image = PILImage.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=colours, method=PILImage.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue()


class Screenshots:
    """Where the browser test saves what a reviewer sees: FACECORE_SCREENSHOTS_DIR (docs/screenshots
    through ``make screenshots``), else a temporary folder."""

    def __init__(self, fallback: Path) -> None:
        self.folder = Path(os.environ.get("FACECORE_SCREENSHOTS_DIR") or fallback)
        self.folder.mkdir(parents=True, exist_ok=True)

    def take(self, driver, name: str, max_height: int = 1500) -> Path:
        """The page down to ``max_height`` pixels (the window grows for it, then shrinks back)."""
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(WINDOW[0], max(WINDOW[1], min(int(height) + 140, max_height)))
        try:
            path = self.folder / f"{name}.png"
            path.write_bytes(small_png(driver.get_screenshot_as_png()))
        finally:
            driver.set_window_size(*WINDOW)
        return path


def photo(path: Path, max_side: int = 640) -> bytes:
    """A shared photo, downscaled (uploads stay quick; faces stay large enough)."""
    with PILImage.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((max_side, max_side))
        out = io.BytesIO()
        img.save(out, "JPEG", quality=90)
        return out.getvalue()


def temp_profile() -> Path:
    return Path(tempfile.mkdtemp(prefix="facecore-chromium-"))
