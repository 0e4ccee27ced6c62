"""CompreFace's paths, mounted by config/urls.py under /api/v1/ (recognition/, detection/,
verification/, static/). Each path also answers with a trailing slash, as CompreFace's docs use
both (the OpenAPI schema shows the one without)."""

from django.urls import URLPattern, path, re_path

from adapters.compreface.errors import SHAPE
from adapters.compreface.views import examples, images, subjects

not_found = SHAPE.not_found_view()


def both(route: str, view, name: str) -> list[URLPattern]:
    """``route`` and ``route/``; the second is left out of the schema."""
    undocumented = type(f"Slash{view.__name__}", (view,), {"schema": None})
    return [path(route, view.as_view(), name=name), path(f"{route}/", undocumented.as_view())]


recognition = [
    *both("subjects", subjects.SubjectsView, "compreface-subjects"),
    *both("subjects/<str:subject>", subjects.SubjectView, "compreface-subject"),
    *both("faces", examples.FacesView, "compreface-faces"),
    *both("faces/delete", examples.FacesDeleteView, "compreface-faces-delete"),
    *both("faces/<str:image_id>", examples.FaceView, "compreface-face"),
    *both("faces/<str:image_id>/img", examples.FaceImageView, "compreface-face-img"),
    *both("faces/<str:image_id>/verify", examples.FaceVerifyView, "compreface-face-verify"),
    *both("recognize", images.RecognizeView, "compreface-recognize"),
    re_path(r"", not_found),
]

detection = [*both("detect", images.DetectView, "compreface-detect"), re_path(r"", not_found)]

verification = [*both("verify", images.VerifyView, "compreface-verify"), re_path(r"", not_found)]

static = [
    path("<str:api_key>/images/<str:image_id>", examples.StaticImageView.as_view(), name="compreface-static"),
    re_path(r"", not_found),
]
