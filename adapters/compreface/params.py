"""CompreFace's request parameters: query string first, then multipart/JSON fields (Spring's
``@RequestParam`` reads both). Booleans as Spring reads them (``true/false``, ``on/off``,
``yes/no``, ``1/0``, any case: the Python SDK sends ``True``); an empty value is the default.
Bad values are refused with code 26, never ignored."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.compreface.errors import Refusal
from api.serializers import MAX_FACES_LIMIT
from images.face_plugins import parse_plugins
from infra.errors import ErrorCode, ServiceError

TRUE = {"true", "on", "yes", "1"}
FALSE = {"false", "off", "no", "0"}
MAX_PREDICTION_COUNT = 100
MAX_PAGE_SIZE = 2000
DEFAULT_PAGE_SIZE = 20


def raw(request, name: str):
    """The parameter as sent: query string, else a field of a multipart or JSON object body."""
    if name in request.query_params:
        return request.query_params.get(name)
    if request.method in ("POST", "PUT") and isinstance(request.data, dict):
        return request.data.get(name)
    return None


def _invalid(message: str) -> ServiceError:
    return ServiceError(ErrorCode.INVALID_REQUEST, message)


def boolean(request, name: str, default: bool) -> bool:
    value = raw(request, name)
    if value in (None, ""):
        return default
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise _invalid(f"'{name}' must be true or false; got {value!r}.")


def integer(request, name: str, default: int, minimum: int, maximum: int, below: str) -> int:
    """An integer in [minimum, maximum]; ``below`` is CompreFace's message for a too small value."""
    value = raw(request, name)
    if value in (None, ""):
        return default
    try:
        if isinstance(value, bool | float):
            raise TypeError(value)
        number = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise _invalid(f"'{name}' must be an integer; got {value!r}.") from exc
    if number < minimum:
        raise _invalid(below)
    if number > maximum:
        raise _invalid(f"'{name}' must be at most {maximum}.")
    return number


def det_prob_threshold(request) -> float | None:
    value = raw(request, "det_prob_threshold")
    if value in (None, ""):
        return None
    try:
        if isinstance(value, bool):
            raise TypeError(value)
        number = float(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise _invalid(f"'det_prob_threshold' must be a number; got {value!r}.") from exc
    if not 0.0 <= number <= 1.0:
        raise _invalid("det_prob_threshold must be between 0.0 and 1.0.")
    return number


@dataclass(frozen=True)
class FaceOptions:
    """The options of CompreFace's image endpoints."""

    limit: int
    det_prob_threshold: float | None
    plugins: tuple[str, ...]
    status: bool


def face_options(request) -> FaceOptions:
    if not boolean(request, "detect_faces", True):
        raise _invalid("detect_faces=false (the whole image as one face) is not supported by facecore.")
    return FaceOptions(
        limit=integer(request, "limit", 0, 0, MAX_FACES_LIMIT, "Limit should be equal or greater than 0; "),
        det_prob_threshold=det_prob_threshold(request),
        plugins=parse_plugins(raw(request, "face_plugins")),
        status=boolean(request, "status", False),
    )


def prediction_count(request) -> int:
    return integer(
        request,
        "prediction_count",
        1,
        1,
        MAX_PREDICTION_COUNT,
        "prediction_count should be equal or greater than 1; ",
    )


def no_plugins(request) -> None:
    """Endpoints that compute no plugins (adding an example) refuse them rather than drop them."""
    if parse_plugins(raw(request, "face_plugins")):
        raise _invalid("face_plugins are not computed when adding an example; send them to recognize.")


def required_subject(request) -> str:
    """The ``subject`` query parameter (33 when missing, 26 when blank)."""
    value = raw(request, "subject")
    if value is None:
        raise Refusal(33, "Required parameter subject is missing")
    if not str(value).strip():
        raise _invalid("Subject name is empty; ")
    return str(value)


def lenient_int(request, name: str, default: int, maximum: int) -> int:
    """Spring Data's paging numbers: junk is the default, negatives and zero sizes too."""
    try:
        number = int(str(raw(request, name)).strip())
    except (TypeError, ValueError):
        return default
    if number < 0 or (name == "size" and number < 1):
        return default
    return min(number, maximum)
