"""A worker's own exporter (fast tier, in a child Python): the search latency observed in the
worker's pool processes (forks) is summed and served on FACECORE_WORKER_METRICS_PORT, behind
the metrics token, and the worker's multiprocess folder goes away when it stops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.metrics.scrape import samples, value
from tests.pipeline.services import free_port

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import json, os, urllib.error, urllib.request
import django
django.setup()
from worker import metrics_exporter
from metrics.search import observed

@observed
def nearest(application_id, model, vector, *, k, scope):
    return []

metrics_exporter.prepare()  # Celery's worker_init, in the worker's main process
for scope in ("jobs", "subjects"):  # two pool processes, each searching once
    pid = os.fork()
    if pid == 0:
        nearest("app", "facenet", [0.0], k=1, scope=scope)
        os._exit(0)
    os.waitpid(pid, 0)
metrics_exporter.start()  # worker_ready
url = "http://127.0.0.1:%s/metrics" % os.environ["FACECORE_WORKER_METRICS_PORT"]
try:
    urllib.request.urlopen(url, timeout=10)
    anonymous = 200
except urllib.error.HTTPError as exc:
    anonymous = exc.code
request = urllib.request.Request(url, headers={"Authorization": "Bearer worker-token"})
body = urllib.request.urlopen(request, timeout=10).read().decode()
folder = str(metrics_exporter.folder_for(os.getpid()))
metrics_exporter.stop()  # worker_shutdown
print(json.dumps({"anonymous": anonymous, "body": body, "folder": folder}))
"""


def test_worker_serves_the_search_latency_of_its_pool_processes(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "FACECORE_DATA_DIR": str(tmp_path),
        "FACECORE_WORKER_METRICS_PORT": str(free_port()),
        "FACECORE_WORKER_METRICS_HOST": "127.0.0.1",
        "FACECORE_METRICS_TOKEN": "worker-token",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run(
        [sys.executable, "-c", WORKER], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["anonymous"] == 401
    found = samples(out["body"])
    assert value(found, "facecore_search_seconds_count", model="facenet", scope="jobs") == 1
    assert value(found, "facecore_search_seconds_count", model="facenet", scope="subjects") == 1
    assert value(found, "facecore_search_seconds_sum", model="facenet", scope="jobs") > 0
    assert Path(out["folder"]).parent == tmp_path / "metrics"
    assert not Path(out["folder"]).exists()
