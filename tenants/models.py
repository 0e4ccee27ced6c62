"""Applications (tenants) and their API keys."""

from __future__ import annotations

import secrets
import uuid

from django.db import models


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class Application(models.Model):
    """A tenant. API keys, images, faces and subjects all belong to one application."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    webhook_secret = models.CharField(max_length=128, default=new_webhook_secret)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """Only the SHA-256 of a key is stored; ``prefix`` (its first 8 characters) identifies it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=8, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.application.name})"
