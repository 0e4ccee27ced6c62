"""A small application to review, built the way the pipeline builds it (faces stored, then
matched and clustered one image at a time) from synthetic embeddings, with real photos in a
local store so thumbnails and the photo view work. No models needed (fast tier)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image as PILImage

from images.models import Face, Image, ImagePurpose
from infra.storage import get_store, original_key
from recognition.clustering import cluster_face
from recognition.matching import store_matches
from recognition.models import Subject
from tenants.models import Application

DIM = 128


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


GOOD = {"score": 0.95, "reasons": []}
"""The quality of a clear photo: these faces are decided in the good tier (recognition.decisions)."""


def near(center: np.ndarray, rng: np.random.Generator, distance: float = 0.3) -> np.ndarray:
    """A unit vector at about ``distance`` (L2) from ``center``: two such faces are well inside
    facenet's match edge (0.636 x 1.05 in the good tier)."""
    noise = rng.normal(size=DIM)
    noise -= noise.dot(center) * center
    angle = 2 * np.arcsin(distance / 2)
    return unit(np.cos(angle) * center + np.sin(angle) * unit(noise))


def photo(colour: tuple[int, int, int]) -> bytes:
    pixels = np.full((120, 160, 3), 128, np.uint8)
    pixels[30:90, 50:110] = colour
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, "JPEG")
    return out.getvalue()


@dataclass
class World:
    app: Application
    rng: np.random.Generator
    people: dict[str, np.ndarray] = field(default_factory=dict)
    faces: dict[str, list[Face]] = field(default_factory=dict)

    def person(self, name: str) -> np.ndarray:
        if name not in self.people:
            self.people[name] = unit(self.rng.normal(size=DIM))
        return self.people[name]

    def image(self, purpose: str = ImagePurpose.JOB) -> Image:
        image = Image.objects.create(
            application=self.app, status="done", purpose=purpose, width=160, height=120
        )
        image.object_key = original_key(image.id)
        image.save(update_fields=["object_key"])
        get_store().put(image.object_key, photo((200, 40, 40)), "image/jpeg")
        return image

    def upload(self, name: str) -> Face:
        """A job image with one face of ``name``, matched and clustered as the pipeline does."""
        face = Face.objects.create(
            application=self.app, image=self.image(), x_min=50, y_min=30, x_max=110, y_max=90,
            probability=0.99, landmarks={}, embedding=list(map(float, near(self.person(name), self.rng))),
            model="facenet", quality=GOOD,
        )  # fmt: skip
        store_matches([face])
        cluster_face(face)
        face.refresh_from_db()
        self.faces.setdefault(name, []).append(face)
        return face

    def refresh(self) -> World:
        """Faces re-read (a later upload may have pulled earlier faces into a new cluster)."""
        for faces in self.faces.values():
            for face in faces:
                face.refresh_from_db()
        return self

    def example(self, name: str, subject: str) -> Face:
        """An example photo of ``name`` enrolled as ``subject``."""
        owner, _ = Subject.objects.get_or_create(application=self.app, name=subject)
        face = Face.objects.create(
            application=self.app, image=self.image(ImagePurpose.EXAMPLE), x_min=50, y_min=30, x_max=110,
            y_max=90, probability=0.99, landmarks={}, subject=owner,
            embedding=list(map(float, near(self.person(name), self.rng))), model="facenet", quality=GOOD,
        )  # fmt: skip
        self.faces.setdefault(name, []).append(face)
        return face


def world(name: str = "review", seed: int = 3) -> World:
    return World(Application.objects.create(name=name), np.random.default_rng(seed))
