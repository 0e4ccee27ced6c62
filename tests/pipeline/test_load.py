"""``make run`` under load, as a user starts it (bench.load): 200 synchronous calls (recognize,
verify, adding an example) and 200 uploads from 8 clients at once against ``manage.py runall``
on a fresh data folder. Before the embedded Valkey broker and gunicorn, this load killed the
worker (kombu's filesystem transport, kombu #1551) or answered 500 (too many database clients).
The figures are printed; the faults must all be zero."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.load import CLIENTS, SYNC_CALLS, UPLOADS, child_exits, run_clients, table, warm_up
from bench.service import runall

pytestmark = pytest.mark.real_parts


def test_make_run_serves_8_clients_with_no_crash_no_5xx_and_every_job_done_once(tmp_path: Path, capsys):
    from facecore.fetch import weights_present
    from facecore.settings import EngineSettings

    engine = EngineSettings.from_env()
    if not weights_present(engine.default_model, engine.models_dir):
        pytest.skip(f"{engine.default_model} weights missing: run `make models`")
    log = tmp_path / "runall.log"
    with runall("", log) as (base, key, _queue):
        warm_up(base, key)
        figures = run_clients(base, key, SYNC_CALLS, UPLOADS, CLIENTS)
    figures.child_exits = child_exits(log.read_text(errors="replace"))
    summary = figures.summary()
    with capsys.disabled():
        print(f"\nmake run under load ({time.strftime('%H:%M')}):\n" + table([("runall", summary)]))
    assert summary["calls"].get("upload") == UPLOADS
    assert sum(summary["calls"].get(kind, 0) for kind in ("recognize", "verify", "add_example")) == SYNC_CALLS
    assert summary["http_5xx"] == 0, summary["errors"]
    assert summary["refused"] == 0, summary["errors"]
    assert summary["child_exits"] == 0, log.read_text()[-3000:]
    assert summary["jobs_done"] == UPLOADS, summary
    assert summary["jobs_run_more_than_once"] == 0, summary
