"""Messages waiting in the broker's queues, read the same way for every transport kombu speaks.

A passive ``queue_declare`` answers the message count on RabbitMQ, Redis and the filesystem
transport alike, without creating anything. NOT_FOUND means no message is waiting: Redis deletes
an empty list, and RabbitMQ has no queue nobody declared yet (nothing could be routed to it).
Messages a worker already holds (prefetched, or delayed retries waiting for their ETA) are not
in the count.
"""

from __future__ import annotations

import contextlib
import logging

from celery import current_app

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 2.0


def _not_found(exc: Exception) -> bool:
    return (
        getattr(exc, "code", None) == 404
        or getattr(exc, "reply_code", None) == 404
        or "NOT_FOUND" in str(exc)
    )


def depths(queues: list[str]) -> dict[str, int] | None:
    """``{queue: waiting messages}``; None when the broker cannot be reached (logged)."""
    app = current_app
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=CONNECT_TIMEOUT)
            out = {}
            for queue in queues:
                channel = conn.channel()  # a failed passive declare closes its channel (AMQP)
                try:
                    out[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
                except conn.channel_errors as exc:
                    if not _not_found(exc):
                        raise
                    out[queue] = 0
                finally:
                    with contextlib.suppress(Exception):
                        channel.close()
            return out
    except Exception as exc:
        log.warning("cannot read the broker's queue lengths: %s", exc)
        return None
