"""Small options of the synchronous endpoints, from the query string or the body."""

from __future__ import annotations

from images.face_plugins import parse_plugins
from infra.errors import ErrorCode, ServiceError


def _raw(request, name: str):
    return request.query_params.get(name, request.data.get(name))


def int_option(request, name: str, default: int, minimum: int = 0, maximum: int = 1000) -> int:
    raw = _raw(request, name)
    if raw in (None, ""):
        return default
    try:
        if isinstance(raw, (bool, float)):
            raise TypeError(raw)  # JSON true/1.5 are not integers
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{name}' must be an integer.") from exc
    if not minimum <= value <= maximum:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{name}' must be between {minimum} and {maximum}.")
    return value


def threshold_option(request) -> float | None:
    raw = _raw(request, "det_prob_threshold")
    if raw in (None, ""):
        return None
    try:
        if isinstance(raw, bool):
            raise TypeError(raw)  # JSON true is not 1.0
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "'det_prob_threshold' must be a number.") from exc
    if not 0.0 <= value <= 1.0:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "'det_prob_threshold' must be between 0 and 1.")
    return value


def plugins_option(request) -> tuple[str, ...]:
    """``face_plugins`` (comma-separated, images.face_plugins); unknown names are refused."""
    return parse_plugins(_raw(request, "face_plugins"))


def include_plugins(raw: str | None) -> tuple[str, ...]:
    """``?include=`` of an image's status: face plugins, with ``embedding`` for ``calculator``."""
    names = [part.strip() for part in (raw or "").split(",") if part.strip()]
    return parse_plugins(",".join("calculator" if n == "embedding" else n for n in names), "include")


TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def bool_option(request, name: str, default: bool = False) -> bool:
    """``true``/``false`` (also 1/0, yes/no, on/off, or a JSON boolean); anything else is refused."""
    raw = _raw(request, name)
    if raw in (None, ""):
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE | FALSE:
        return text in TRUE
    raise ServiceError(ErrorCode.INVALID_REQUEST, f"'{name}' must be true or false.")
