"""Wake-ups through PostgreSQL's LISTEN/NOTIFY, so a waiting request needs no tight polling.

``notify(channel, key)`` runs ``pg_notify`` on Django's connection: inside a transaction it is
delivered when that transaction commits (never for a rollback). ``waiting(channel, key)`` gives an
event that one listener thread per process sets when ``key`` is announced on ``channel``. The
listener has its own connection (one per process, outside the pool) and reconnects after errors;
while it is down nobody is woken, so callers keep a slow poll as the fallback (a pooler in
transaction mode, such as PgBouncer's, drops LISTEN the same way).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator

from django.db import connection

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 5.0
WAKE_SECONDS = 0.2
"""How often the listener looks up from its connection to see whether it should stop."""


def notify(channel: str, key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [channel, key])


class Listener:
    """One LISTEN connection per process, shared by every waiting thread of that process."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._waiters: dict[str, set[threading.Event]] = {}
        self._lock = threading.Lock()
        self._tried = threading.Event()
        """Set after the first connection attempt, whatever its outcome."""
        self._connections = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"listen-{channel}", daemon=True)
        self._thread.start()

    @contextlib.contextmanager
    def waiting(self, key: str, ready_timeout: float = 1.0) -> Iterator[threading.Event]:
        """An event set when ``key`` is announced; registered before the caller checks the state it
        waits for, so an announcement between that check and the wait is not lost."""
        event = threading.Event()
        with self._lock:
            self._waiters.setdefault(key, set()).add(event)
        self._tried.wait(ready_timeout)  # the first call in a process: LISTEN is in place
        try:
            yield event
        finally:
            with self._lock:
                events = self._waiters.get(key)
                if events is not None:
                    events.discard(event)
                    if not events:
                        del self._waiters[key]

    def _wake_all(self) -> None:
        with self._lock:
            for events in self._waiters.values():
                for event in events:
                    event.set()

    def _wake(self, key: str) -> None:
        with self._lock:
            for event in self._waiters.get(key, ()):
                event.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection and end the thread (within ``WAKE_SECONDS``)."""
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception as exc:  # noqa: BLE001 - any failure: log, reconnect later
                self._tried.set()
                log.warning(
                    "LISTEN %s failed (%s); waiting calls poll until it reconnects", self.channel, exc
                )
                self._stopping.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        import psycopg

        params = connection.get_connection_params()
        for key in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(key, None)
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(f'LISTEN "{self.channel}"')
            self._connections += 1
            self._tried.set()
            if self._connections > 1:
                self._wake_all()  # announcements missed while reconnecting: everyone re-checks
            while not self._stopping.is_set():
                for note in conn.notifies(timeout=WAKE_SECONDS):
                    self._wake(note.payload)


_listeners: dict[str, tuple[int, Listener]] = {}
_listeners_lock = threading.Lock()


def stop_listeners() -> None:
    """Stop this process's listeners (tests: before their database is dropped)."""
    with _listeners_lock:
        found = [one for pid, one in _listeners.values() if pid == os.getpid()]
        _listeners.clear()
    for one in found:
        one.stop()


def listener(channel: str) -> Listener:
    """This process's listener on ``channel`` (a forked child starts its own)."""
    with _listeners_lock:
        found = _listeners.get(channel)
        if found is None or found[0] != os.getpid():
            found = (os.getpid(), Listener(channel))
            _listeners[channel] = found
        return found[1]
