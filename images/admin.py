"""Django admin: images (jobs) with their faces, photo and webhook attempts.

Everything on an image is the pipeline's (status, options, timings, error, ...), so the image
page is read only: a click cannot corrupt a finished job. Deleting an image goes through
images.deletion (stored objects first, then the rows) and says what it removed. The faces'
own review pages are recognition's (recognition/admin); thumbnails come from its cached view.
"""

from __future__ import annotations

import hashlib
import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from images import migration_admin  # noqa: F401  (registers the model migrations' admin)
from images.annotate import annotated_jpeg
from images.deletion import delete_image
from images.models import Face, Image, WebhookAttempt
from infra.storage import ObjectNotFound, StorageUnavailable, get_store

PHOTO_MAX_AGE = 3600


def face_thumb(face_id, size: int = 64) -> SafeString | str:
    """The face crop from recognition's admin view (reversed by name: images does not import it)."""
    try:
        url = reverse("admin:images_face_thumbnail", args=[face_id])
    except NoReverseMatch:
        return "-"
    return format_html(
        '<img class="fc-thumb" src="{}" width="{}" height="{}" loading="lazy" alt="face">', url, size, size
    )


class FaceInline(admin.TabularInline):
    model = Face
    extra = 0
    fields = ("thumb", "face_link", "subject", "cluster_number", "probability", "box", "model")
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subject")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="face")
    def thumb(self, obj: Face) -> SafeString | str:
        return face_thumb(obj.id)

    @admin.display(description="id")
    def face_link(self, obj: Face) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:images_face_change", args=[obj.id]), str(obj.id)[:8]
        )

    @admin.display(description="cluster")
    def cluster_number(self, obj: Face) -> str:
        return str(obj.cluster_id) if obj.cluster_id else "—"

    @admin.display(description="box")
    def box(self, obj: Face) -> str:
        return f"{obj.x_min},{obj.y_min} – {obj.x_max},{obj.y_max}"


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    readonly_fields = ("number", "attempted_at", "status_code", "error", "duration_ms")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "application",
        "status",
        "error_code",
        "purpose",
        "face_count",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "purpose", "application")
    list_select_related = ("application",)
    search_fields = ("=request_id",)
    search_help_text = "An image id or a request_id."
    show_full_result_count = False
    inlines = [FaceInline, WebhookAttemptInline]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {"title": "Image", **(extra_context or {})})

    class Media:
        css = {"all": ("recognition/review.css",)}

    def get_fields(self, request, obj=None):
        return ["photo", *(f.name for f in Image._meta.fields)]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request) -> bool:
        return False  # images are uploaded through the API

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the pipeline owns every field: the page is read only

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request):
        counted = Face.objects.filter(image=OuterRef("pk")).order_by().values("image").annotate(n=Count("pk"))
        total = Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)
        return super().get_queryset(request).annotate(face_total=total)

    @admin.display(description="faces", ordering="face_total")
    def face_count(self, obj: Image) -> int:
        return obj.face_total

    def get_urls(self):
        photo = self.admin_site.admin_view(self.photo_view, cacheable=True)
        return [path("<uuid:image_id>/photo.jpg", photo, name="images_image_photo"), *super().get_urls()]

    @admin.display(description="photo")
    def photo(self, obj: Image) -> SafeString | str:
        if obj.status != "done":
            return "-"
        if obj.original_deleted and not obj.annotated_key:
            return "original deleted, no preview kept"
        url = reverse("admin:images_image_photo", args=[obj.id])
        return format_html('<img class="fc-image-photo" src="{}" alt="the photo with its faces">', url)

    def photo_view(self, request, image_id: uuid.UUID) -> HttpResponse:
        """The annotated photo (boxes and landmarks), cached by the browser for an hour."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        image = get_object_or_404(Image, pk=image_id)
        faces = list(image.faces.all())
        etag = (
            '"photo-'
            + hashlib.sha256(",".join(sorted(str(f.id) for f in faces)).encode()).hexdigest()[:16]
            + '"'
        )
        if request.headers.get("If-None-Match") == etag:
            response = HttpResponseNotModified()
        else:
            try:
                store = get_store()
                if image.annotated_key:
                    jpeg = store.get(image.annotated_key)
                elif image.original_deleted:
                    raise ObjectNotFound(image.object_key)
                else:
                    jpeg = annotated_jpeg(store.get(image.object_key), faces)
            except ObjectNotFound:
                return HttpResponse(
                    "original deleted, no preview kept", content_type="text/plain", status=404
                )
            except StorageUnavailable:
                return HttpResponse("object store unavailable", content_type="text/plain", status=503)
            response = HttpResponse(jpeg, content_type="image/jpeg")
        response["ETag"] = etag
        response["Cache-Control"] = f"private, max-age={PHOTO_MAX_AGE}"
        return response

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        shrunk = (
            Face.objects.filter(image__in=list(objs), subject__isnull=False)
            .values_list("subject__name")
            .annotate(n=Count("pk"))
            .order_by("subject__name")
        )
        for name, n in shrunk:
            deleted.append(f"{n} example(s) of subject {name}: the subject keeps its other examples")
        return deleted, counts, perms, protected

    def delete_model(self, request, obj: Image) -> None:
        gone = delete_image(obj)
        self.message_user(request, f"Image {str(obj.id)[:8]} deleted: {gone.summary()}.", messages.SUCCESS)

    def delete_queryset(self, request, queryset) -> None:
        for image in list(queryset):
            self.delete_model(request, image)
