"""GET /metrics: the Prometheus endpoint (docs/metrics.md). No API key; a bearer token when
FACECORE_METRICS_TOKEN is set."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from metrics.exposition import api_registry, authorized


@require_GET
def metrics(request) -> HttpResponse:
    if not authorized(request.headers.get("Authorization")):
        response = HttpResponse(
            "metrics need Authorization: Bearer <FACECORE_METRICS_TOKEN>\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = "Bearer"
        return response
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(api_registry()), content_type=content_type)
