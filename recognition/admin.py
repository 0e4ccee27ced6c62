"""Admin review of recognition: subjects with face thumbnails, faces with thumbnail, image,
subject and best match, and actions to assign faces, remove them, or merge subjects.

The Face model belongs to images, but its admin page is this review page (images' admin only
shows faces inline on their image)."""

from __future__ import annotations

import base64

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from images.models import Face
from recognition import subjects as services
from recognition.models import Cluster, Match, Subject

THUMBNAILS_PER_SUBJECT = 12


def thumbnail(face: Face, size: int = 64) -> str:
    """An <img> of the face crop (made from the original and cached when missing)."""
    try:
        jpeg = services.face_crop_jpeg(face)
    except Exception:  # the page must render even when the store is down or the original gone
        return "-"
    data = base64.b64encode(jpeg).decode()
    return format_html(
        '<img src="data:image/jpeg;base64,{}" width="{}" height="{}" style="border-radius:4px">',
        data,
        size,
        size,
    )


class SubjectActionForm(ActionForm):
    subject = forms.CharField(required=False, label="Subject name", help_text="For assign / merge actions.")


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ("name", "application", "face_count", "thumbnails", "created_at")
    list_filter = ("application",)
    search_fields = ("name",)
    readonly_fields = ("thumbnails", "created_at")
    action_form = SubjectActionForm
    actions = ["merge_into"]

    @admin.display(description="faces")
    def face_count(self, obj: Subject) -> int:
        return obj.faces.count()

    @admin.display(description="examples")
    def thumbnails(self, obj: Subject) -> str:
        faces = obj.faces.select_related("image")[:THUMBNAILS_PER_SUBJECT]
        return format_html_join(" ", "{}", ((thumbnail(f, 48),) for f in faces)) or "-"

    @admin.action(description="Merge selected subjects into the subject named below")
    def merge_into(self, request, queryset) -> None:
        name = request.POST.get("subject", "").strip()
        apps = set(queryset.values_list("application_id", flat=True))
        if not name or len(apps) != 1:
            self.message_user(
                request, "Give a subject name; select subjects of one application.", messages.ERROR
            )
            return
        target, _ = Subject.objects.get_or_create(application_id=apps.pop(), name=name)
        moved = services.merge_subjects(target.application, list(queryset), target)
        self.message_user(request, f"Moved {moved} faces into {target.name}.", messages.SUCCESS)


@admin.register(Face)
class FaceReviewAdmin(admin.ModelAdmin):
    list_per_page = 50  # one thumbnail (object store read) per row
    list_display = ("thumb", "id", "image_link", "subject", "cluster", "best_match", "model", "probability")
    list_filter = ("model", "application", "image__purpose", ("subject", admin.EmptyFieldListFilter))
    list_select_related = ("image", "subject")
    search_fields = ("id", "subject__name")
    readonly_fields = ("thumb", "image_link", "best_match", "created_at")
    exclude = ("embedding",)
    raw_id_fields = ("image", "cluster")
    action_form = SubjectActionForm
    actions = ["assign_to_subject", "remove_from_subject", "delete_with_embeddings"]

    @admin.display(description="face")
    def thumb(self, obj: Face) -> str:
        return thumbnail(obj)

    @admin.display(description="image")
    def image_link(self, obj: Face) -> str:
        url = reverse("admin:images_image_change", args=[obj.image_id])
        return format_html('<a href="{}">{} ({})</a>', url, str(obj.image_id)[:8], obj.image.purpose)

    @admin.display(description="best match")
    def best_match(self, obj: Face) -> str:
        match = Match.objects.filter(face=obj).order_by("distance").select_related("other_face").first()
        if match is None:
            return "-"
        url = reverse("admin:images_face_change", args=[match.other_face_id])
        return format_html(
            '<a href="{}">{}</a> (similarity {:.2f})', url, str(match.other_face_id)[:8], match.similarity
        )

    @admin.action(description="Assign selected faces to the subject named below")
    def assign_to_subject(self, request, queryset) -> None:
        name = request.POST.get("subject", "").strip()
        apps = set(queryset.values_list("application_id", flat=True))
        if not name or len(apps) != 1:
            self.message_user(
                request, "Give a subject name; select faces of one application.", messages.ERROR
            )
            return
        subject, _ = Subject.objects.get_or_create(application_id=apps.pop(), name=name)
        count = queryset.update(subject=subject, cluster=None)
        self.message_user(request, f"Assigned {count} faces to {subject.name}.", messages.SUCCESS)

    @admin.action(description="Remove selected faces from their subject")
    def remove_from_subject(self, request, queryset) -> None:
        count = queryset.update(subject=None)
        self.message_user(request, f"Removed {count} faces from their subjects.", messages.SUCCESS)

    @admin.action(description="Delete selected faces with their embeddings (and example photos)")
    def delete_with_embeddings(self, request, queryset) -> None:
        count = services.delete_faces(list(queryset.select_related("image")))
        self.message_user(request, f"Deleted {count} faces.", messages.SUCCESS)


class ClusterFaceInline(admin.TabularInline):
    model = Face
    fk_name = "cluster"
    extra = 0
    fields = ("thumb", "image", "probability")
    readonly_fields = ("thumb", "image", "probability")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="face")
    def thumb(self, obj: Face) -> str:
        return thumbnail(obj)


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ("id", "application", "size", "updated_at")
    list_filter = ("application",)
    inlines = [ClusterFaceInline]

    @admin.display(description="faces")
    def size(self, obj: Cluster) -> int:
        return obj.faces.count()
