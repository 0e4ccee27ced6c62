"""What every CompreFace view shares: its error answers, parsers and schema documentation."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.views import APIView

from adapters.compreface.errors import SHAPE
from adapters.compreface.serializers import CompreFaceErrorSerializer
from api.views.common import PARSERS

TAG = "CompreFace-compatible"
ERRORS = {status: OpenApiResponse(CompreFaceErrorSerializer) for status in (400, 404, 413, 503)}
Q = OpenApiParameter.QUERY

LIMIT = OpenApiParameter("limit", int, Q, description="Keep the N largest faces; 0 = all (default).")
DET_PROB = OpenApiParameter(
    "det_prob_threshold", float, Q, description="0..1; default FACECORE_DET_PROB_THRESHOLD (0.8)."
)
FACE_PLUGINS = OpenApiParameter(
    "face_plugins",
    str,
    Q,
    description="Comma-separated: calculator, landmarks, pose, quality. age, gender, mask and unknown "
    "names are refused (code 26); empty or `undefined` = none.",
)
STATUS = OpenApiParameter(
    "status", bool, Q, description="true adds execution_time to each face and plugins_versions."
)
PREDICTION_COUNT = OpenApiParameter(
    "prediction_count", int, Q, description="Most similar subjects per face, 1-100 (default 1)."
)
FACE_OPTIONS = [LIMIT, DET_PROB, FACE_PLUGINS, STATUS]


def image_body(serializer) -> dict:
    return {"multipart/form-data": serializer, "application/json": serializer}


class CompreFaceView(APIView):
    """Errors as CompreFace sends them (compreface.errors), facecore's API key in ``x-api-key``."""

    parser_classes = PARSERS
    service = "Recognition"
    """Named in the answer to an unknown key (CompreFace: "<service> service with API Key ... not found")."""

    def get_exception_handler(self):
        return SHAPE.exception_handler
