"""Rejected matches: pairs a reviewer marked as different people. Deleting one undoes it (the
two faces may be matched and clustered together again by later jobs)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import SafeString

from recognition.admin.thumbs import thumb
from recognition.models import Rejection


@admin.register(Rejection)
class RejectionAdmin(admin.ModelAdmin):
    list_display = ("pair", "source", "application", "created_at")
    list_display_links = None
    list_filter = ("application",)
    list_per_page = 50
    list_select_related = ("application",)
    show_full_result_count = False
    ordering = ("-created_at",)
    readonly_fields = ("application", "face_a", "face_b", "source", "created_at")

    class Media:
        css = {"all": ("recognition/review.css",)}

    def has_add_permission(self, request) -> bool:
        return False  # reject a match on the Matches page (or mark two faces different)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="marked different")
    def pair(self, obj: Rejection) -> SafeString:
        return format_html(
            '<span class="fc-pair">{} ≠ {}</span>',
            thumb(obj.face_a_id, 64, link=True),
            thumb(obj.face_b_id, 64, link=True),
        )
