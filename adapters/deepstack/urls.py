"""DeepStack's face paths, mounted by config/urls.py under /v1/vision/; each also answers with a
trailing slash (left out of the schema). DeepStack's other vision endpoints (objects, scenes,
custom models) are not served: their paths answer DeepStack's JSON 404."""

from django.urls import URLPattern, path, re_path

from adapters.deepstack import views
from adapters.deepstack.errors import SHAPE


def route(route: str, view, name: str) -> list[URLPattern]:
    return [path(route, view.as_view(), name=name), path(f"{route}/", view.as_view(schema=None))]


urlpatterns = [
    *route("face", views.DetectView, "deepstack-detect"),
    *route("face/register", views.RegisterView, "deepstack-register"),
    *route("face/recognize", views.RecognizeView, "deepstack-recognize"),
    *route("face/list", views.ListView, "deepstack-list"),
    *route("face/delete", views.DeleteView, "deepstack-delete"),
    *route("face/match", views.MatchView, "deepstack-match"),
    re_path(r"", SHAPE.not_found_view()),
]
