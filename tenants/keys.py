"""API key generation and hashing. Only the SHA-256 of a key is stored."""

from __future__ import annotations

import hashlib
import secrets

from tenants.models import ApiKey, Application

KEY_PREFIX_LENGTH = 8


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_api_key(application: Application, name: str = "") -> tuple[ApiKey, str]:
    """Make a key for ``application``; returns the row and the raw key (shown once, never stored)."""
    raw_key = "fc_" + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        application=application,
        name=name,
        prefix=raw_key[:KEY_PREFIX_LENGTH],
        key_hash=hash_key(raw_key),
    )
    return key, raw_key


def active_key(raw_key: str) -> ApiKey | None:
    """The unrevoked key ``raw_key`` (with its application), or None."""
    return (
        ApiKey.objects.select_related("application")
        .filter(key_hash=hash_key(raw_key.strip()), revoked=False)
        .first()
    )
