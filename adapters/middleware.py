"""The request-size refusal of api.middleware, answered in a compatibility layer's shape on its
paths (each layer's subclass is placed before api.middleware.RequestSizeLimit in MIDDLEWARE)."""

from __future__ import annotations

from adapters.errors import Shape
from api.middleware import declared_over, oversized


class RequestSizeLimit:
    shape: Shape

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def limit(self, request) -> int | None:
        """The largest body the path takes; None: api.middleware's rule."""
        return None

    def __call__(self, request):
        if self.shape.serves(request.path):
            limit = self.limit(request)
            error = oversized(request) if limit is None else declared_over(request, limit)
            if error is not None:
                return self.shape.json(error)
        return self.get_response(request)
