from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from adapters.compreface import urls as compreface
from adapters.compreface.errors import SHAPE as COMPREFACE
from adapters.deepstack.errors import SHAPE as DEEPSTACK
from api.errors import json_not_found, json_server_error
from api.views.health import healthz, readyz
from api.views.metrics import metrics

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    # The CompreFace-compatible API (docs/compreface.md), beside facecore's own.
    path("api/v1/recognition/", include(compreface.recognition)),
    path("api/v1/detection/", include(compreface.detection)),
    path("api/v1/verification/", include(compreface.verification)),
    path("api/v1/static/", include(compreface.static)),
    path("api/v1/", include("api.urls")),
    # The DeepStack / CodeProject.AI-compatible face API (docs/deepstack.md).
    path("v1/vision/", include("adapters.deepstack.urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Unknown API paths answer JSON {"code": "not_found"} even with DEBUG on (keep this last).
    re_path(r"^api/", json_not_found),
]

handler400 = "api.errors.json_bad_request"
handler404 = "api.errors.json_not_found"


def server_error(request):
    """Django's last resort: JSON in the shape of the API the path belongs to."""
    for shape in (COMPREFACE, DEEPSTACK):
        if shape.serves(request.path):
            return shape.server_error()
    return json_server_error(request)


handler500 = server_error
