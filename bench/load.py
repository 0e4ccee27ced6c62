"""The embedded default under load, as a user starts it: ``manage.py runall`` (what ``make run``
runs) on a fresh data folder, then 8 clients at once send synchronous calls (recognize, verify,
adding an example) and uploads (then poll them to the end).

It counts what a user would see go wrong: HTTP 5xx, connections refused or reset, jobs that did
not end ``done``, jobs run more than once, and children of runall that died (its supervisor logs
each restart). Latency is per kind of call, p50 and p95 in ms.

    python -m bench.load                      # 200 synchronous calls + 200 uploads, 8 clients
    python -m bench.load --sync 40 --uploads 40 --clients 4
    python -m bench.load --repo ../old-checkout --write   # the same load on another checkout

``make bench-load`` writes the figures to docs/benchmarks.md ("Load on make run");
tests/pipeline/test_load.py runs it and holds it to zero faults.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests
from PIL import Image

from bench.common import REPO, machine_summary, publish

CLIENTS = 8
SYNC_CALLS = 200
UPLOADS = 200
JOB_TIMEOUT_SECONDS = 600
SYNC_KINDS = ("recognize", "verify", "add_example")


@dataclass
class Figures:
    """What the clients saw."""

    calls: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    refused: int = 0
    """Connections refused, reset or timed out (the server was not there)."""
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    image_ids: list[str] = field(default_factory=list)
    job_outcomes: Counter = field(default_factory=Counter)
    runs_per_job: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    child_exits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def jobs_run_more_than_once(self) -> int:
        return sum(n for runs, n in self.runs_per_job.items() if runs > 1)

    def percentile(self, kind: str, q: float) -> float:
        values = sorted(self.latencies.get(kind, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000

    def summary(self) -> dict:
        return {
            "calls": dict(self.calls),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "http_5xx": self.server_errors,
            "refused": self.refused,
            "jobs": len(self.image_ids),
            "jobs_done": self.job_outcomes.get("done", 0),
            "jobs_not_done": sum(n for k, n in self.job_outcomes.items() if k != "done"),
            "jobs_run_more_than_once": self.jobs_run_more_than_once,
            "child_exits": self.child_exits,
            "seconds": round(self.seconds, 1),
            "latency_ms": {
                kind: {"p50": round(self.percentile(kind, 0.5)), "p95": round(self.percentile(kind, 0.95))}
                for kind in sorted(self.latencies)
            },
            "errors": self.errors[:10],
        }


def photos() -> tuple[bytes, bytes]:
    """Two photos of one face (scikit-image's astronaut and its mirror image), 512x512 JPEG."""
    from skimage import data

    face = data.astronaut()

    def jpeg(array: np.ndarray) -> bytes:
        out = io.BytesIO()
        Image.fromarray(array).save(out, format="JPEG", quality=90)
        return out.getvalue()

    return jpeg(face), jpeg(np.ascontiguousarray(face[:, ::-1]))


class Client:
    def __init__(self, base: str, key: str, figures: Figures, pictures: tuple[bytes, bytes]) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = key
        self.figures = figures
        self.pictures = pictures

    def call(self, kind: str, method: str, path: str, **kwargs) -> requests.Response | None:
        start = time.perf_counter()
        try:
            response = self.session.request(method, f"{self.base}{path}", timeout=120, **kwargs)
        except requests.RequestException as exc:
            with self.figures.lock:
                self.figures.refused += 1
                self.figures.errors.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])
            return None
        elapsed = time.perf_counter() - start
        with self.figures.lock:
            self.figures.calls[kind] += 1
            self.figures.statuses[response.status_code] += 1
            self.figures.latencies[kind].append(elapsed)
            if response.status_code >= 500:
                self.figures.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
        return response

    def sync_call(self, kind: str, n: int) -> None:
        a, b = self.pictures
        if kind == "recognize":
            self.call(kind, "POST", "/api/v1/recognize", files={"image": ("a.jpg", a)})
        elif kind == "verify":
            self.call(
                kind,
                "POST",
                "/api/v1/verify",
                files={"source_image": ("a.jpg", a), "target_image": ("b.jpg", b)},
            )
        else:
            self.call(kind, "POST", f"/api/v1/subjects/load-{n % 20}/faces", files={"image": ("a.jpg", b)})

    def upload(self) -> None:
        response = self.call("upload", "POST", "/api/v1/images", files={"image": ("a.jpg", self.pictures[0])})
        if response is not None and response.status_code == 202:
            with self.figures.lock:
                self.figures.image_ids.append(response.json()["image_id"])


def run_clients(base: str, key: str, sync_calls: int, uploads: int, clients: int) -> Figures:
    """``sync_calls`` + ``uploads`` requests from ``clients`` threads at once (each client's share
    shuffled), then every upload polled until it ends."""
    figures = Figures()
    pictures = photos()
    work = [("sync", SYNC_KINDS[n % len(SYNC_KINDS)], n) for n in range(sync_calls)]
    work += [("upload", "upload", n) for n in range(uploads)]
    random.Random(7).shuffle(work)
    shares = [work[i::clients] for i in range(clients)]

    def client_loop(share: list) -> None:
        client = Client(base, key, figures, pictures)
        for what, kind, n in share:
            if what == "sync":
                client.sync_call(kind, n)
            else:
                client.upload()

    start = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for_jobs(base, key, figures)
    figures.seconds = time.perf_counter() - start
    return figures


def wait_for_jobs(base: str, key: str, figures: Figures) -> None:
    session = requests.Session()
    session.headers["X-API-Key"] = key
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    pending = list(figures.image_ids)
    while pending and time.monotonic() < deadline:
        still = []
        for image_id in pending:
            try:
                status = session.get(f"{base}/api/v1/images/{image_id}", timeout=30).json()
            except (requests.RequestException, json.JSONDecodeError):
                still.append(image_id)
                continue
            if status["status"] in ("done", "failed"):
                figures.job_outcomes[status["status"]] += 1
                figures.runs_per_job[status.get("attempts", 1)] += 1
            else:
                still.append(image_id)
        pending = still
        if pending:
            time.sleep(1)
    figures.job_outcomes["not finished"] += len(pending)


def warm_up(base: str, key: str, timeout: float = 300) -> None:
    """Wait until a worker has loaded its models and answered one recognize call, so the figures
    are of a running service, not of its start."""
    deadline = time.monotonic() + timeout
    picture = photos()[0]
    while time.monotonic() < deadline:
        try:
            answer = requests.post(
                f"{base}/api/v1/recognize",
                headers={"X-API-Key": key},
                files={"image": ("a.jpg", picture)},
                timeout=120,
            )
            if answer.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise TimeoutError("the service never answered a recognize call")


def child_exits(log_text: str) -> int:
    """Children of runall that died while it ran (its supervisor logs each one)."""
    return sum(1 for line in log_text.splitlines() if line.startswith("runall: ") and " exited (" in line)


def table(rows: list[tuple[str, dict]]) -> str:
    head = (
        "| run | sync calls | uploads | HTTP 5xx | refused | jobs done | run twice | child exits |"
        " recognize p50 / p95 | verify p50 / p95 | add example p50 / p95 | upload p50 / p95 | wall |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    lines = []
    for name, s in rows:
        lat = s["latency_ms"]

        def pair(kind: str, lat=lat) -> str:
            return f"{lat[kind]['p50']} / {lat[kind]['p95']} ms" if kind in lat else "-"

        sync = sum(s["calls"].get(k, 0) for k in SYNC_KINDS)
        lines.append(
            f"| {name} | {sync} | {s['calls'].get('upload', 0)} | {s['http_5xx']} | {s['refused']} |"
            f" {s['jobs_done']} of {s['jobs']} | {s['jobs_run_more_than_once']} | {s['child_exits']} |"
            f" {pair('recognize')} | {pair('verify')} | {pair('add_example')} | {pair('upload')} | {s['seconds']} s |"
        )
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from bench.service import runall

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sync", type=int, default=SYNC_CALLS)
    parser.add_argument("--uploads", type=int, default=UPLOADS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose runall to start")
    parser.add_argument("--name", default="this checkout")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args(argv)
    log_path = Path("/tmp") / f"facecore-load-{int(time.time())}.log"
    with runall("", log_path, repo=args.repo.resolve()) as (base, key, _queue):
        warm_up(base, key)
        figures = run_clients(base, key, args.sync, args.uploads, args.clients)
    figures.child_exits = child_exits(log_path.read_text(errors="replace"))
    summary = figures.summary()
    print(json.dumps(summary, indent=1))
    print(table([(args.name, summary)]))
    if args.json:
        args.json.write_text(json.dumps(summary))
    if args.write:
        publish(
            "## Load on make run",
            f"`python -m bench.load` ({machine_summary()}): `manage.py runall` on a fresh data folder, "
            f"{args.clients} clients at once.\n\n" + table([(args.name, summary)]),
            write=True,
        )
    faults = summary["http_5xx"] + summary["refused"] + summary["jobs_not_done"]
    faults += summary["jobs_run_more_than_once"] + summary["child_exits"]
    return 1 if faults else 0


if __name__ == "__main__":
    raise SystemExit(main())
