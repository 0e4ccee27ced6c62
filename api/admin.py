"""Django admin: applications (webhook secret), API keys (shown once), images, faces."""

from __future__ import annotations

import base64

from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html

from api.keys import create_api_key
from api.models import ApiKey, Application, Face, Image, WebhookAttempt


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


class FaceInline(admin.TabularInline):
    model = Face
    extra = 0
    fields = ("id", "x_min", "y_min", "x_max", "y_max", "probability", "model", "subject", "cluster")
    readonly_fields = ("id", "x_min", "y_min", "x_max", "y_max", "probability", "model")
    show_change_link = True


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    readonly_fields = ("number", "attempted_at", "status_code", "error", "duration_ms")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("id", "application", "status", "error_code", "purpose", "created_at", "finished_at")
    list_filter = ("status", "purpose", "application")
    search_fields = ("id", "request_id")
    readonly_fields = (
        "id",
        "created_at",
        "started_at",
        "finished_at",
        "timings",
        "object_key",
        "annotated_key",
        "original_deleted",
        "annotated_preview",
    )
    inlines = [FaceInline, WebhookAttemptInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="annotated preview")
    def annotated_preview(self, obj: Image) -> str:
        if obj.status != "done":
            return "-"
        from api.storage import get_store
        from worker.annotate import annotated_jpeg

        try:
            store = get_store()
            if obj.annotated_key:
                jpeg = store.get(obj.annotated_key)
            elif not obj.original_deleted:
                jpeg = annotated_jpeg(store.get(obj.object_key), list(obj.faces.all()))
            else:
                return "original deleted, no preview kept"
        except Exception as exc:  # the admin page must render even when the store is down
            return f"unavailable ({type(exc).__name__})"
        data = base64.b64encode(jpeg).decode()
        return format_html('<img src="data:image/jpeg;base64,{}" style="max-width: 640px">', data)


@admin.register(Face)
class FaceAdmin(admin.ModelAdmin):
    list_display = ("id", "application", "image", "model", "probability", "subject", "cluster", "created_at")
    list_filter = ("model", "application")
    readonly_fields = ("id", "image", "created_at")
    exclude = ("embedding",)
