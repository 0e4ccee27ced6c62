"""DeepStack's face paths, mounted by config/urls.py under /v1/vision/ (with or without a
trailing slash). DeepStack's other vision endpoints (objects, scenes, custom models) are not
served: their paths answer DeepStack's JSON 404."""

from django.urls import re_path

from adapters.deepstack import views
from adapters.deepstack.errors import SHAPE

urlpatterns = [
    re_path(r"^face/?$", views.DetectView.as_view(), name="deepstack-detect"),
    re_path(r"^face/register/?$", views.RegisterView.as_view(), name="deepstack-register"),
    re_path(r"^face/recognize/?$", views.RecognizeView.as_view(), name="deepstack-recognize"),
    re_path(r"^face/list/?$", views.ListView.as_view(), name="deepstack-list"),
    re_path(r"^face/delete/?$", views.DeleteView.as_view(), name="deepstack-delete"),
    re_path(r"^face/match/?$", views.MatchView.as_view(), name="deepstack-match"),
    re_path(r"", SHAPE.not_found_view()),
]
