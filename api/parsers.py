"""Request parsers that refuse bad bodies with a 400 instead of failing."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """JSON with Django's body limit (FACECORE_MAX_REQUEST_BYTES; DRF streams JSON past it), a
    400 for nesting so deep that Python's parser gives up, and a 400 for a body that is not a
    JSON object (views read fields from it) unless the view sets ``json_array_body = True``."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise RequestDataTooBig("JSON body larger than DATA_UPLOAD_MAX_MEMORY_SIZE")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
        view = (parser_context or {}).get("view")
        if not isinstance(data, dict) and not (
            isinstance(data, list) and getattr(view, "json_array_body", False)
        ):
            raise ParseError(f"The JSON body must be an object, not {type(data).__name__}.")
        return data
