"""Django admin: applications (webhook secret) and API keys (shown once)."""

from __future__ import annotations

from django.contrib import admin, messages

from tenants.keys import create_api_key
from tenants.models import ApiKey, Application


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ("name", "prefix", "created_at", "last_used_at", "revoked")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys are made on the API key page, where the raw key is shown once


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "created_at")
    search_fields = ("name",)
    readonly_fields = ("id", "created_at")
    fields = ("id", "name", "webhook_secret", "created_at")
    inlines = [ApiKeyInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "application", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked", "application")
    readonly_fields = ("prefix", "created_at", "last_used_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("application", "name")
        return ("application", "name", "prefix", "created_at", "last_used_at", "revoked")

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw_key = create_api_key(obj.application, obj.name)
        obj.pk = key.pk
        obj.prefix, obj.key_hash, obj.created_at = key.prefix, key.key_hash, key.created_at
        messages.warning(request, f"The new API key (shown only this once, copy it now): {raw_key}")
