"""Oversized ``/v1/vision/`` requests refused in DeepStack's shape before the body is read
(placed before api.middleware.RequestSizeLimit in MIDDLEWARE). ``face/register`` may carry
several photos."""

from __future__ import annotations

from adapters import middleware
from adapters.deepstack.errors import SHAPE
from api.middleware import image_request_limit

MAX_REGISTER_IMAGES = 10
"""Photos one ``face/register`` call may carry (its request-size limit)."""


class RequestSizeLimit(middleware.RequestSizeLimit):
    shape = SHAPE

    def limit(self, request) -> int:
        images = MAX_REGISTER_IMAGES if request.path.rstrip("/").endswith("/face/register") else 2
        return image_request_limit(images)
