"""Request parsing for recognition endpoints: images (reusing api.intake) and small options."""

from __future__ import annotations

from api.errors import ApiError
from api.intake import CheckedImage, checked_image


class _FieldView:
    """Lets api.intake read ``<prefix>`` fields as if they were ``image``/``image_base64``/``image_url``."""

    def __init__(self, request, prefix: str) -> None:
        data = request.data
        value = data.get(prefix)
        mapped = {
            "image": None,
            "image_base64": data.get(f"{prefix}_base64"),
            "image_url": data.get(f"{prefix}_url"),
        }
        if hasattr(value, "read"):
            mapped["image"] = value
        elif isinstance(value, str) and value:
            # JSON: a URL or base64 in the plain field is accepted too.
            key = "image_url" if value.startswith(("http://", "https://")) else "image_base64"
            if mapped[key] not in (None, ""):
                raise ApiError("invalid_request", f"Send '{prefix}' once.")
            mapped[key] = value
        self.data = {k: v for k, v in mapped.items() if v not in (None, "")}


def checked_named_image(request, prefix: str) -> CheckedImage:
    """The image sent as ``<prefix>`` (file or base64/URL string), ``<prefix>_base64`` or ``<prefix>_url``."""
    try:
        return checked_image(_FieldView(request, prefix))
    except ApiError as exc:
        if exc.error_code == "missing_image":
            raise ApiError(
                "missing_image", f"Send '{prefix}' (multipart file), '{prefix}_base64' or '{prefix}_url'."
            ) from exc
        raise ApiError(exc.error_code, f"{prefix}: {exc.message}", exc.status_code, exc.details) from exc


def int_option(request, name: str, default: int, minimum: int = 0, maximum: int = 1000) -> int:
    raw = request.query_params.get(name, request.data.get(name))
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_request", f"'{name}' must be an integer.") from exc
    if not minimum <= value <= maximum:
        raise ApiError("invalid_request", f"'{name}' must be between {minimum} and {maximum}.")
    return value


def threshold_option(request) -> float | None:
    raw = request.query_params.get("det_prob_threshold", request.data.get("det_prob_threshold"))
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_request", "'det_prob_threshold' must be a number.") from exc
    if not 0.0 <= value <= 1.0:
        raise ApiError("invalid_request", "'det_prob_threshold' must be between 0 and 1.")
    return value


def bool_option(request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name, request.data.get(name))
    if raw in (None, ""):
        return default
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in {"1", "true", "yes", "on"}
