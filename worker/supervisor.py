"""Keeps ``manage.py runall``'s children running for as long as the user leaves it running.

A child that exits (a crash, an out-of-memory kill, ``kill -9``) is started again after a
back-off that doubles from 1 s up to a minute, with a log line each time, and the back-off starts
over once a child has run for a while. Children are started in order; one with a readiness probe
(the broker) is waited for before the next starts. ``stop`` ends the others first, then the ones
they depend on, and kills what has not exited after a grace period.

Each child runs in a process group of its own, so an operator can ``kill -9`` one child's whole
tree (the Celery worker with its pool processes) without touching the others, and, on Linux, it is
killed when runall itself dies, so no orphan keeps the data folder busy.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
STABLE_AFTER_SECONDS = 60.0
"""A child that ran this long before it exited is restarted after the first back-off again."""
READY_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 20.0


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent (runall) dies (Linux prctl)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    command: list[str]
    ready: Callable[[], bool] | None = None
    """Polled after a start until true (or READY_TIMEOUT_SECONDS); the next child waits for it."""
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = BACKOFF_FIRST_SECONDS
    restart_at: float | None = None
    exit_codes: list[int] = field(default_factory=list)


class Supervisor:
    def __init__(self, children: list[Child], *, cwd: str, env: dict[str, str], log: Callable[[str], None]):
        self.children = children
        self.cwd = cwd
        self.env = env
        self.log = log

    def start(self) -> None:
        for child in self.children:
            self._start(child)

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.command,
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        if child.ready is not None:
            deadline = time.monotonic() + READY_TIMEOUT_SECONDS
            while not child.ready() and child.process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)

    def watch(self) -> None:
        """One round: note children that exited, restart those whose back-off is over."""
        now = time.monotonic()
        for child in self.children:
            if child.process is None:
                continue
            if child.restart_at is None and child.process.poll() is not None:
                code = child.process.returncode
                child.exit_codes.append(code)
                _kill_group(child.process.pid, signal.SIGKILL)  # what it left behind (pool processes)
                if now - child.started_at >= STABLE_AFTER_SECONDS:
                    child.backoff = BACKOFF_FIRST_SECONDS
                child.restart_at = now + child.backoff
                self.log(
                    f"{child.name} exited ({describe_exit(code)}); restarting it in {child.backoff:g} s"
                    f" (restart {child.restarts + 1})"
                )
                child.backoff = min(child.backoff * 2, BACKOFF_MAX_SECONDS)
            elif child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._start(child)
                self.log(f"{child.name} restarted (pid {child.process.pid})")

    def stop(self, first: list[str], then: list[str]) -> None:
        """SIGTERM the children named in ``first`` (graceful shutdown for gunicorn and Celery) and
        wait for their process trees, then those in ``then``; SIGKILL after STOP_GRACE_SECONDS."""
        for names in (first, then):
            group = [c for c in self.children if c.name in names and c.process is not None]
            trees = []
            for child in group:
                with contextlib.suppress(psutil.NoSuchProcess):
                    root = psutil.Process(child.process.pid)
                    trees += [root, *root.children(recursive=True)]
                if child.process.poll() is None:
                    child.process.send_signal(signal.SIGTERM)
            _, alive = psutil.wait_procs(trees, timeout=STOP_GRACE_SECONDS)
            for proc in alive:
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc.kill()
            psutil.wait_procs(alive, timeout=5)
            for child in group:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(timeout=5)


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit status {code}"
