"""CompreFace's paths, mounted by config/urls.py under /api/v1/ (recognition/, detection/,
verification/, static/). Trailing slashes are optional, as CompreFace's docs use both."""

from django.urls import path, re_path

from compreface.errors import not_found
from compreface.views import examples, images, subjects

UUID_OR_ANY = r"(?P<image_id>[^/]+)"

recognition = [
    re_path(r"^subjects/?$", subjects.SubjectsView.as_view(), name="compreface-subjects"),
    re_path(r"^subjects/(?P<subject>[^/]+)/?$", subjects.SubjectView.as_view(), name="compreface-subject"),
    re_path(r"^faces/?$", examples.FacesView.as_view(), name="compreface-faces"),
    re_path(r"^faces/delete/?$", examples.FacesDeleteView.as_view(), name="compreface-faces-delete"),
    re_path(rf"^faces/{UUID_OR_ANY}/img/?$", examples.FaceImageView.as_view(), name="compreface-face-img"),
    re_path(
        rf"^faces/{UUID_OR_ANY}/verify/?$", examples.FaceVerifyView.as_view(), name="compreface-face-verify"
    ),
    re_path(rf"^faces/{UUID_OR_ANY}/?$", examples.FaceView.as_view(), name="compreface-face"),
    re_path(r"^recognize/?$", images.RecognizeView.as_view(), name="compreface-recognize"),
    re_path(r"", not_found),
]

detection = [
    re_path(r"^detect/?$", images.DetectView.as_view(), name="compreface-detect"),
    re_path(r"", not_found),
]

verification = [
    re_path(r"^verify/?$", images.VerifyView.as_view(), name="compreface-verify"),
    re_path(r"", not_found),
]

static = [
    path("<str:api_key>/images/<str:image_id>", examples.StaticImageView.as_view(), name="compreface-static"),
    re_path(r"", not_found),
]
