"""Shared factories: applications with keys, API clients, stored images and faces."""

from __future__ import annotations

import numpy as np

from images.models import Face, Image, ImagePurpose
from recognition.models import Subject
from tenants.keys import create_api_key
from tenants.models import Application


def application(name: str) -> tuple[Application, str]:
    """An application and a raw API key for it."""
    app = Application.objects.create(name=name)
    _, raw_key = create_api_key(app, "test")
    return app, raw_key


def api_client(name: str):
    """A DRF test client authenticated as a new application (``client.application``)."""
    from rest_framework.test import APIClient

    app, raw_key = application(name)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    client.application = app
    return client


def image(app: Application, purpose: str = ImagePurpose.JOB, **fields) -> Image:
    return Image.objects.create(
        application=app, purpose=purpose, status=fields.pop("status", "done"), **fields
    )


def face(
    app: Application,
    vector: np.ndarray | list[float],
    *,
    purpose: str = ImagePurpose.JOB,
    subject: Subject | None = None,
    model: str = "facenet",
    on: Image | None = None,
    box: tuple[int, int, int, int] = (0, 0, 10, 10),
    quality: dict | None = None,
) -> Face:
    """A stored face with ``vector`` as its embedding, on a new image of ``purpose`` unless ``on``."""
    x_min, y_min, x_max, y_max = box
    return Face.objects.create(
        application=app,
        image=on or image(app, purpose),
        x_min=x_min,
        y_min=y_min,
        x_max=x_max,
        y_max=y_max,
        probability=0.99,
        embedding=list(map(float, vector)),
        model=model,
        subject=subject,
        quality=quality if quality is not None else {"score": 0.95, "reasons": []},
    )
