"""Django admin: images (jobs) with their faces, annotated preview and webhook attempts.

Faces have their own review pages in recognition's admin (subjects, clusters, matches)."""

from __future__ import annotations

import base64

from django.contrib import admin
from django.db import models
from django.utils.html import format_html

from images.annotate import annotated_jpeg
from images.models import Face, Image, WebhookAttempt
from infra.storage import get_store


class FaceInline(admin.TabularInline):
    model = Face
    extra = 0
    fields = ("id", "x_min", "y_min", "x_max", "y_max", "probability", "model")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


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
