"""The ONNX runtimes hold to TensorFlow, the reference: same faces, same embeddings.

For every network with an ONNX form (MTCNN's three, facenet, facenet512) and every installed
executor (OpenVINO, ONNX Runtime), on the shared deepface-pairs photos:

* detection: every face TensorFlow's FastMTCNN finds is found, boxes and landmarks within 1 px,
  probabilities within 1e-3 (a face may only flip when its probability is that close to ONet's
  threshold);
* embeddings of the same crops: cosine >= 0.9999, so stored embeddings stay comparable.

Real weights and TensorFlow (``real_parts``); the photos are skipped without FACECORE_SHARED_DIR.
The GPU test runs only where ONNX Runtime's CUDA provider has a GPU. Speed lives in
bench/engine_throughput.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facecore.detect import face_in_pixels
from facecore.detectors.fast_agreement import compare_rows
from facecore.detectors.fast_boxes import MTCNNParams
from facecore.engine import Engine
from facecore.fetch import fetch_model
from facecore.onnx_models import ensure_converted
from facecore.runtime import EXECUTORS, Net, cuda_available, installed
from facecore.settings import EngineSettings, default_models_dir

from .conftest import ENGINE_DEFAULTS

REPO = Path(__file__).resolve().parents[2]
ONET_THRESHOLD = MTCNNParams().threshold_onet
MAX_PROB_DIFF = 1e-3
MAX_PIXEL_DIFF = 1.0
MIN_COSINE = 0.9999

EXECUTORS_HERE = [
    pytest.param(e, marks=pytest.mark.skipif(not installed(e), reason=f"{e} missing")) for e in EXECUTORS
]


@pytest.fixture(scope="module")
def models_dir() -> Path:
    path = default_models_dir()
    for name in ("facenet", "facenet512"):
        fetch_model(name, path, progress=False)
    for name in ("mtcnn", "facenet", "facenet512"):
        ensure_converted(name, path)
    return path


@pytest.fixture(scope="module")
def photos(deepface_pairs: Path) -> list:
    """Every shared photo decoded as the engine decodes it (upright, detection copy <= 1024 px)."""
    engine = Engine(ENGINE_DEFAULTS)
    return [engine.decode(p.read_bytes()) for p in sorted(deepface_pairs.glob("*.jpg"))]


@pytest.fixture(scope="module")
def tf_engine(models_dir: Path) -> Engine:
    from dataclasses import replace

    return Engine(replace(ENGINE_DEFAULTS, runtime="tensorflow", models_dir=models_dir))


def onnx_engine(models_dir: Path, executor: str) -> Engine:
    from dataclasses import replace

    return Engine(replace(ENGINE_DEFAULTS, runtime=executor, models_dir=models_dir))


@pytest.fixture(scope="module")
def tf_rows(tf_engine: Engine, photos: list) -> list[np.ndarray]:
    return [tf_engine.detector.detect([p.detection], 20)[0] for p in photos]


@pytest.mark.parametrize("executor", EXECUTORS_HERE)
def test_detector_finds_tensorflows_faces(executor, models_dir, photos, tf_rows) -> None:
    engine = onnx_engine(models_dir, executor)
    assert engine.detector.name == "mtcnn-onnx" and engine.detector.executor == executor
    faces = 0
    for photo, reference in zip(photos, tf_rows, strict=True):
        rows = engine.detector.detect([photo.detection], 20)[0]
        agreement = compare_rows(reference, rows)
        # A face may flip only when its probability is within MAX_PROB_DIFF of the threshold.
        assert all(abs(p - ONET_THRESHOLD) <= MAX_PROB_DIFF for p in agreement.unmatched_probs), agreement
        assert all(d <= MAX_PROB_DIFF for d in agreement.prob_diffs), agreement
        assert all(d <= MAX_PIXEL_DIFF for d in agreement.landmark_diffs), agreement
        if len(rows) == len(reference) and len(rows):
            order_ref = np.argsort(-reference[:, 4])
            order = np.argsort(-rows[:, 4])
            box_diff = np.abs(reference[order_ref, :4] - rows[order, :4]).max()
            assert box_diff <= MAX_PIXEL_DIFF, (photo, box_diff)
        faces += agreement.matched
    assert faces >= len(photos)  # the photos hold at least one face each


@pytest.mark.parametrize("executor", EXECUTORS_HERE)
def test_a_batch_of_photos_finds_what_each_photo_finds_alone(executor, models_dir, photos) -> None:
    """A worker's job runs several photos in one call: RNet and ONet then see hundreds of
    candidates, run in fixed-size chunks (``run_in_chunks``); the faces are those of one call each."""
    detector = onnx_engine(models_dir, executor).detector
    batch = [p.detection for p in photos[:16]]
    together = detector.detect(batch, 20)
    for image, rows in zip(batch, together, strict=True):
        np.testing.assert_allclose(rows, detector.detect([image], 20)[0], atol=1e-4)


@pytest.mark.parametrize("executor", EXECUTORS_HERE)
@pytest.mark.parametrize("model", ["facenet", "facenet512"])
def test_embeddings_match_tensorflow(executor, model, models_dir, photos, tf_engine) -> None:
    crops = []
    reference = tf_engine.embedder(model)
    for photo, result in zip(photos, tf_engine.detect(photos), strict=True):
        crops += [reference.prepare(photo.pixels, face_in_pixels(f, photo)) for f in result.faces]
    crops = np.stack(crops)
    candidate = onnx_engine(models_dir, executor).embedder(model)
    assert (candidate.name, candidate.dimension, candidate.threshold) == (
        reference.name,
        reference.dimension,
        reference.threshold,
    )
    expected, got = reference.embed(crops), candidate.embed(crops)
    assert got.shape == expected.shape and got.dtype == np.float32
    cosines = np.sum(expected * got, axis=1)
    assert cosines.min() >= MIN_COSINE, (model, executor, float(cosines.min()))


def test_worker_and_api_on_the_default_runtime_never_import_tensorflow(
    models_dir: Path, deepface_pairs: Path
) -> None:
    """A worker process (Django, the API and the worker's tasks imported; the engine warmed and
    run) on the default runtime (FACECORE_RUNTIME unset: auto) has no TensorFlow in sys.modules."""
    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
        "django.setup(); import api.urls, worker.tasks; "
        "from facecore.engine import get_engine; e = get_engine(); "
        f"r = e.analyze([open({str(deepface_pairs / 'couple.jpg')!r}, 'rb').read()]); "
        "assert r[0].faces and r[0].faces[0].embedding is not None; "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; "
        "print(e.detector.name, e.embedder().executor)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACECORE_RUNTIME", "DJANGO_SETTINGS"))}
    env["FACECORE_MODELS_DIR"] = str(models_dir)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[0] == "mtcnn-onnx"


def test_settings_runtime_is_validated(monkeypatch) -> None:
    from environs import EnvError

    monkeypatch.setenv("FACECORE_RUNTIME", "onnx")
    assert EngineSettings.from_env().runtime == "onnx"
    monkeypatch.setenv("FACECORE_RUNTIME", "torch")
    with pytest.raises(EnvError, match="FACECORE_RUNTIME"):
        EngineSettings.from_env()


@pytest.mark.skipif(not cuda_available(), reason="no GPU for ONNX Runtime's CUDA provider here")
def test_cuda_provider_runs_the_networks(models_dir: Path, photos: list, tf_rows: list) -> None:
    """On a GPU machine (onnxruntime-gpu): the networks run on CUDA and still find TensorFlow's faces."""
    (facenet,) = ensure_converted("facenet", models_dir)
    assert Net(facenet, "onnxruntime").device.startswith("GPU")
    engine = onnx_engine(models_dir, "onnxruntime")
    for photo, reference in zip(photos, tf_rows, strict=True):
        agreement = compare_rows(reference, engine.detector.detect([photo.detection], 20)[0])
        assert all(abs(p - ONET_THRESHOLD) <= MAX_PROB_DIFF for p in agreement.unmatched_probs), agreement
        assert all(d <= MAX_PROB_DIFF for d in agreement.prob_diffs), agreement
