"""Who a ``/v1/vision/`` call acts as.

DeepStack sends its key as the form field ``api_key`` (``api_key=""`` when none is configured);
facecore's ``X-API-Key`` header works too. A key must be facecore's API key: its application is
the caller. Many of DeepStack's tools send no key at all (CodeProject.AI's client never does):
with ``FACECORE_DEEPSTACK_APPLICATION=<name>`` a call without a key acts as the application of
that name (created on first use); unset, a key is required (401). A wrong key is refused even
then: it never falls back to the keyless application. So keyed and keyless callers never see
each other's subjects (unless someone gives the keyless application a key of its own).
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError
from rest_framework import authentication, exceptions

from adapters.deepstack.errors import WRONG_KEY
from adapters.keys import application_of, sent_key
from tenants.auth import HEADER
from tenants.models import Application

KEY_FIELD = "api_key"


def keyless_application() -> Application | None:
    """The application keyless calls act as, or None when they are refused."""
    name = (settings.FACECORE_DEEPSTACK_APPLICATION or "").strip()
    if not name:
        return None
    try:
        application, _ = Application.objects.get_or_create(name=name)
    except IntegrityError:  # created by a concurrent first call
        application = Application.objects.get(name=name)
    return application


class DeepStackKey(authentication.BaseAuthentication):
    def authenticate(self, request) -> tuple[None, Application] | None:
        raw_key = sent_key(request, KEY_FIELD)
        if raw_key is None:
            application = keyless_application()
            return None if application is None else (None, application)
        application = application_of(raw_key)
        if application is None:
            raise exceptions.AuthenticationFailed(WRONG_KEY)
        return None, application

    def authenticate_header(self, request) -> str:
        return HEADER  # 401, not 403, for a missing or wrong key
