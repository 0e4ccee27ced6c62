"""Fault injection on the real parts: uploads with callbacks while the whole worker process group
is killed, the broker is killed and restarted (Redis without persistence, RabbitMQ), the S3
server is stopped, the webhook receiver is down. After each: every image done exactly once (no
duplicated faces), every webhook delivered at least once under one stable event id, nothing
stuck. The counts are printed at the end of the run ("fault injection" section)."""

from __future__ import annotations

import json
import time
from collections import defaultdict

import pytest

from images.models import Face, Image, WebhookDelivery

from .conftest import REPORT, Stack

# real_parts by hand: the parametrized scenario asks for its stack by name (getfixturevalue),
# which the fixture-based tier marking in tests/conftest.py cannot see.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_parts]

UPLOADS = 24
FINISH_WITHIN = 300.0
"""Seconds for every image to finish after the fault (generous for a loaded CI machine)."""


def upload_all(stack: Stack, face_jpeg: bytes, two_faces_jpeg: bytes, hook: str) -> dict[str, int]:
    """``image_id -> faces expected``: alternately one and two faces."""
    expected = {}
    for n in range(UPLOADS):
        photo, faces = (face_jpeg, 1) if n % 2 == 0 else (two_faces_jpeg, 2)
        expected[stack.upload(photo, hook)] = faces
    return expected


def finished(ids) -> int:
    return Image.objects.filter(pk__in=list(ids), status__in=["done", "failed"]).count()


def wait_until(predicate, timeout: float, interval: float = 0.25) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not reached after {timeout:.0f} s")
        time.sleep(interval)
    return time.monotonic() - start


def webhooks_delivered(stack: Stack, hook: str, ids) -> bool:
    got = {
        json.loads(r.body)["image_id"] for r in stack.receiver.state.posts(hook) if 200 <= r.answered < 300
    }
    return set(ids) <= got


def check(stack: Stack, scenario: str, expected: dict[str, int], hook: str, recovery: float) -> None:
    """Assert the outcome and record the counts."""
    ids = list(expected)
    statuses = dict(Image.objects.filter(pk__in=ids).values_list("pk", "status"))
    done = sum(1 for s in statuses.values() if s == "done")
    stuck = [i for i in ids if statuses.get(_uuid(i)) not in ("done", "failed")]
    faces = defaultdict(int)
    for image_id in Face.objects.filter(image_id__in=ids).values_list("image_id", flat=True):
        faces[str(image_id)] += 1
    duplicated = [i for i in ids if faces[i] != expected[i]]
    posts = defaultdict(list)
    for received in stack.receiver.state.posts(hook):
        posts[json.loads(received.body)["image_id"]].append(received)
    delivered = [i for i in ids if any(200 <= r.answered < 300 for r in posts[i])]
    event_ids = dict(WebhookDelivery.objects.filter(image_id__in=ids).values_list("image_id", "id"))
    unstable = [
        i for i in ids if {r.headers["X-Facecore-Event-Id"] for r in posts[i]} != {str(event_ids[_uuid(i)])}
    ]
    repeats = sum(sum(1 for r in posts[i] if 200 <= r.answered < 300) - 1 for i in delivered)
    line = (
        f"{scenario}: sent {len(ids)} / done {done} / stuck {len(stuck)} / duplicated {len(duplicated)} / "
        f"webhooks delivered {len(delivered)} of {len(ids)} (repeated deliveries {repeats}, unstable event ids "
        f"{len(unstable)}) / everything finished {recovery:.1f} s after the fault"
    )
    REPORT.append(line)
    print(line)
    assert done == len(ids) and not stuck, line
    assert not duplicated, line
    assert len(delivered) == len(ids) and not unstable, line


def _uuid(value: str):
    import uuid

    return uuid.UUID(value)


@pytest.mark.parametrize("stack_name", ["redis_stack", "embedded_stack"])
def test_the_whole_worker_killed_mid_run(stack_name, request, face_jpeg, two_faces_jpeg):
    stack: Stack = request.getfixturevalue(stack_name)
    hook = f"/hooks/worker-killed-{stack_name}"
    stack.start_worker()
    expected = upload_all(stack, face_jpeg, two_faces_jpeg, hook)
    wait_until(lambda: finished(expected) >= UPLOADS // 4, FINISH_WITHIN)
    killed_at = time.monotonic()
    stack.workers[-1].stop(kill=True)  # SIGKILL to the process group: main process, pool child, beat
    assert finished(expected) < UPLOADS, "the worker finished everything before it was killed"
    stack.start_worker()
    wait_until(
        lambda: finished(expected) == UPLOADS and webhooks_delivered(stack, hook, expected), FINISH_WITHIN
    )
    kind = "Redis" if stack_name == "redis_stack" else "embedded Valkey"
    check(stack, f"worker process group killed ({kind})", expected, hook, time.monotonic() - killed_at)


@pytest.mark.parametrize("stack_name", ["redis_stack", "embedded_stack", "rabbitmq_stack"])
def test_the_broker_killed_and_restarted_mid_run(stack_name, request, face_jpeg, two_faces_jpeg):
    stack: Stack = request.getfixturevalue(stack_name)
    hook = f"/hooks/broker-{stack_name}"
    stack.start_worker()
    expected = upload_all(stack, face_jpeg, two_faces_jpeg, hook)
    wait_until(lambda: finished(expected) >= UPLOADS // 4, FINISH_WITHIN)
    killed_at = time.monotonic()
    stack.broker.stop(kill=True)
    time.sleep(2)
    stack.broker.start(timeout=90)
    wait_until(
        lambda: finished(expected) == UPLOADS and webhooks_delivered(stack, hook, expected), FINISH_WITHIN
    )
    kind = {
        "redis_stack": "Redis, no persistence",
        "embedded_stack": "embedded Valkey, append-only file",
        "rabbitmq_stack": "RabbitMQ",
    }[stack_name]
    check(stack, f"broker killed and restarted ({kind})", expected, hook, time.monotonic() - killed_at)


def test_the_s3_server_stopped_during_processing(redis_stack: Stack, face_jpeg, two_faces_jpeg):
    stack, hook = redis_stack, "/hooks/s3-down"
    stack.start_worker()
    expected = upload_all(stack, face_jpeg, two_faces_jpeg, hook)
    wait_until(lambda: finished(expected) >= 2, FINISH_WITHIN)
    stopped_at = time.monotonic()
    stack.s3.stop(kill=False)
    time.sleep(6)
    retrying = Image.objects.filter(pk__in=list(expected), status="retrying").count()
    stack.s3.start()
    wait_until(
        lambda: finished(expected) == UPLOADS and webhooks_delivered(stack, hook, expected), FINISH_WITHIN
    )
    assert retrying > 0, "no job saw the store down (they all finished before it stopped)"
    check(
        stack,
        f"S3 server stopped for 6 s ({retrying} jobs retrying)",
        expected,
        hook,
        time.monotonic() - stopped_at,
    )


def test_the_webhook_receiver_down_for_a_while(redis_stack: Stack, face_jpeg, two_faces_jpeg):
    stack, hook = redis_stack, "/hooks/receiver-down"
    stack.start_worker()
    stack.receiver.stop()
    expected = upload_all(stack, face_jpeg, two_faces_jpeg, hook)
    wait_until(lambda: finished(expected) == UPLOADS, FINISH_WITHIN)
    time.sleep(3)
    back_at = time.monotonic()
    stack.receiver.start()
    wait_until(lambda: webhooks_delivered(stack, hook, expected), FINISH_WITHIN)
    check(stack, "webhook receiver down while all jobs finished", expected, hook, time.monotonic() - back_at)
