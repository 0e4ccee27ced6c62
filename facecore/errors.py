"""Errors the engine raises for bad input. Each carries a stable machine-readable code."""

from __future__ import annotations


class ImageError(ValueError):
    """An image that the engine refuses. ``code`` is part of the public contract (API and CLI)."""

    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    IMAGE_TOO_LARGE = "image_too_large"
    TOO_MANY_PIXELS = "too_many_pixels"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class ModelUnavailableError(RuntimeError):
    """A model's weights are not on disk (run ``python -m facecore models fetch NAME``)."""

    code = "model_unavailable"


class NoFaceError(ImageError):
    """An operation needs a face (e.g. compare) and the image has none. Code ``no_face``."""

    NO_FACE = "no_face"

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(self.NO_FACE, message)
        self.index = index
        """Position of the faceless image in the call's input, when there were several."""
