"""The request-size refusal of api.middleware, answered in CompreFace's shape on its paths
(placed before api.middleware.RequestSizeLimit in MIDDLEWARE)."""

from __future__ import annotations

from adapters import middleware
from adapters.compreface.errors import SHAPE


class RequestSizeLimit(middleware.RequestSizeLimit):
    shape = SHAPE
