"""Load and warm the models when a worker process starts, so no job pays for it."""

from __future__ import annotations

import logging

import numpy as np
from django.db import DatabaseError

from facecore.types import Box, Face

log = logging.getLogger(__name__)


def warm_engine() -> None:
    """Load the detector and the active model's embedder, and run each once (TensorFlow traces
    on first use; OpenVINO sets up each input shape on first use, so the usual ones are run too)."""
    from facecore.engine import get_engine
    from images.embedding_models import active_model

    engine = get_engine()
    blank = np.full((160, 160, 3), 128, dtype=np.uint8)
    engine.detector.detect([blank], engine.settings.min_face_size)
    warm_shapes = getattr(engine.detector, "warm_shapes", None)  # OpenVINO: set up the usual shapes
    if warm_shapes is not None:
        warm_shapes(engine.settings.detection_max_side, engine.settings.min_face_size)
    try:
        model = active_model()
    except DatabaseError:  # the database may come up later than the worker; jobs ask again
        model = None
    embedder = engine.embedder(model)
    face = Face(
        box=Box(40, 30, 120, 130),
        probability=1.0,
        landmarks={
            "left_eye": (62.0, 65.0),
            "right_eye": (98.0, 65.0),
            "nose": (80.0, 85.0),
            "mouth_left": (66.0, 105.0),
            "mouth_right": (94.0, 105.0),
        },
    )
    embedder.embed(np.stack([embedder.prepare(blank, face)]))
    log.info("models loaded: detector %s, embedder %s", engine.detector.name, embedder.name)
