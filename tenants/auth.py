"""``X-API-Key`` authentication: the key resolves to an application; requests act as it."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions, throttling

from tenants.keys import active_key
from tenants.models import ApiKey, Application

HEADER = "X-API-Key"
LAST_USED_GRANULARITY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per key, not on every request."""


def key_application(raw_key: str) -> Application | None:
    """The application of the unrevoked key ``raw_key`` (its ``last_used_at`` updated), or None."""
    key = active_key(raw_key)
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_GRANULARITY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.application


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Sets ``request.user`` to None and ``request.auth`` to the key's Application."""

    def authenticate(self, request) -> tuple[None, Application] | None:
        raw_key = request.headers.get(HEADER)
        if not raw_key:
            return None
        application = key_application(raw_key)
        if application is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return None, application

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when the key is missing or wrong.
        return HEADER


class HasApplication(permissions.BasePermission):
    message = f"Send a valid API key in the {HEADER} header."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Application)


class ApplicationRateThrottle(throttling.SimpleRateThrottle):
    """FACECORE_THROTTLE_RATE requests per API key's application (by address before auth)."""

    scope = "application"

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, Application):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
