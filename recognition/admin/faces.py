"""The Faces list and the face page.

List: thumbnail, image, subject, cluster and best match per face, in a fixed number of queries
(the best match is a subquery, thumbnails are <img> tags loaded lazily from a cached view);
filters by assignment, subject, cluster, image, purpose, model and application; search by face
or image id, cluster number or subject name; actions to assign, unassign, split out of a
cluster, mark two faces as different people, or delete.

Face page: the crop, the photo with the face's box, the subject (type a name: new or existing;
empty unassigns), the cluster, the best matches with buttons to confirm or reject each, and the
subjects recognition suggests. What the pipeline detected is read only.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from images.models import Face, ImagePurpose
from infra.errors import ServiceError
from recognition import queries, review
from recognition import subjects as subject_services
from recognition.admin import filters
from recognition.admin.paging import DeferredJoinPaginator
from recognition.admin.thumbs import thumb, thumbnail_response, thumbs
from recognition.models import Subject
from tenants.models import Application

CLUSTER_PREVIEW = 12


def reviewer(request) -> str:
    return f"admin:{request.user.get_username()}"


class SubjectActionForm(ActionForm):
    subject = forms.CharField(
        required=False, label="Subject name", help_text="For the assign / confirm / merge actions."
    )


def one_application(modeladmin, request, rows) -> Application | None:
    apps = {row.application_id for row in rows}
    if len(apps) != 1:
        modeladmin.message_user(request, "Select rows of one application.", messages.ERROR)
        return None
    return Application.objects.get(pk=apps.pop())


def subject_from_action_form(modeladmin, request, app) -> Subject | None:
    try:
        name = subject_services.clean_name(request.POST.get("subject", ""))
    except ServiceError as exc:
        modeladmin.message_user(request, f"Type a subject name below the list: {exc.message}", messages.ERROR)
        return None
    return review.subject_named(app, name)


class FaceReviewForm(forms.ModelForm):
    subject_name = forms.CharField(
        required=False,
        label="Subject",
        max_length=subject_services.MAX_NAME,
        help_text="Type a name (a new or an existing subject) to make this face one of its examples; "
        "empty it to unassign the face (it is clustered again).",
        widget=forms.TextInput(attrs={"list": "fc-suggested-subjects", "autocomplete": "off", "size": 40}),
    )

    class Meta:
        model = Face
        fields: list[str] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.subject_id is not None:
            self.fields["subject_name"].initial = self.instance.subject.name

    def clean_subject_name(self) -> str:
        value = (self.cleaned_data.get("subject_name") or "").strip()
        if not value:
            if self.instance.subject_id is not None and self.instance.image.purpose == ImagePurpose.EXAMPLE:
                raise forms.ValidationError(
                    "This face is an example photo of its subject: assign it to another subject or "
                    "delete it instead of unassigning it."
                )
            return ""
        try:
            return subject_services.clean_name(value)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(Face)
class FaceReviewAdmin(admin.ModelAdmin):
    form = FaceReviewForm
    list_display = (
        "thumb",
        "face",
        "image_link",
        "subject_link",
        "cluster_link",
        "best_match",
        "model",
        "probability_short",
        "created_at",
    )
    list_display_links = ("thumb", "face")
    list_filter = (
        filters.AssignmentFilter,
        filters.FaceSubjectFilter,
        filters.FaceClusterFilter,
        filters.FaceImageFilter,
        "image__purpose",
        filters.ModelFilter,
        "application",
    )
    list_select_related = ("image", "subject")
    list_per_page = 50
    paginator = DeferredJoinPaginator
    show_full_result_count = False
    ordering = ("-created_at",)
    search_fields = ("subject__name",)
    search_help_text = "A face or image id, a cluster number, or part of a subject name."
    action_form = SubjectActionForm
    actions = [
        "assign_to_subject",
        "remove_from_subject",
        "split_into_new_cluster",
        "mark_different",
        "delete_with_embeddings",
    ]
    fieldsets = (
        (None, {"fields": ("large_thumb", "photo", "subject_name", "suggestions", "cluster_info")}),
        ("Matches: the same person in other images?", {"fields": ("match_table",)}),
        (
            "Detected by the pipeline (read only)",
            {
                "fields": (
                    "image_link",
                    "application",
                    "box",
                    "probability",
                    "model",
                    "created_at",
                    "rejected",
                )
            },
        ),
    )
    readonly_fields = (
        "large_thumb",
        "photo",
        "suggestions",
        "cluster_info",
        "match_table",
        "image_link",
        "application",
        "box",
        "probability",
        "model",
        "created_at",
        "rejected",
    )

    class Media:
        css = {"all": ("recognition/review.css",)}

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Faces", **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(
            request, object_id, form_url, {"title": "Review a face", **(extra_context or {})}
        )

    # --- queries -------------------------------------------------------------------------------

    def get_queryset(self, request):
        return queries.with_best_match(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            value = uuid.UUID(term)
        except ValueError:
            pass
        else:
            return queryset.filter(Q(pk=value) | Q(image_id=value)), False
        if term.isdigit():
            return queryset.filter(Q(cluster_id=int(term)) | Q(subject__name__icontains=term)), False
        return queryset.filter(subject__name__icontains=term), False

    def get_urls(self):
        thumbnail = self.admin_site.admin_view(self.thumbnail_view, cacheable=True)
        return [
            path("<uuid:face_id>/thumbnail.jpg", thumbnail, name="images_face_thumbnail"),
            *super().get_urls(),
        ]

    def thumbnail_view(self, request, face_id: uuid.UUID):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return thumbnail_response(request, face_id)

    def has_add_permission(self, request) -> bool:
        return False  # faces come from the pipeline

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting goes through delete_with_embeddings
        return actions

    # --- list columns --------------------------------------------------------------------------

    @admin.display(description="")
    def thumb(self, obj: Face) -> SafeString:
        return thumb(obj.id, 64)

    @admin.display(description="face", ordering="created_at")
    def face(self, obj: Face) -> str:
        return str(obj.id)[:8]

    @admin.display(description="image", ordering="image__created_at")
    def image_link(self, obj: Face) -> SafeString:
        url = reverse("admin:images_image_change", args=[obj.image_id])
        return format_html('<a href="{}">{}</a> ({})', url, str(obj.image_id)[:8], obj.image.purpose)

    @admin.display(description="subject", ordering="subject__name")
    def subject_link(self, obj: Face) -> SafeString | str:
        if obj.subject_id is None:
            return "—"
        url = reverse("admin:recognition_subject_change", args=[obj.subject_id])
        return format_html('<a href="{}">{}</a>', url, obj.subject.name)

    @admin.display(description="cluster", ordering="cluster_id")
    def cluster_link(self, obj: Face) -> SafeString | str:
        if obj.cluster_id is None:
            return "—"
        url = reverse("admin:recognition_cluster_change", args=[obj.cluster_id])
        return format_html('<a href="{}">cluster {}</a>', url, obj.cluster_id)

    @admin.display(description="best match", ordering="best_match_similarity")
    def best_match(self, obj: Face) -> SafeString | str:
        if getattr(obj, "best_match_face_id", None) is None:
            return "—"
        matches = reverse("admin:recognition_match_changelist") + f"?face={obj.id}&status=all"
        return format_html(
            '{} <a href="{}" title="all matches of this face">similarity {}</a>',
            thumb(obj.best_match_face_id, 40, link=True),
            matches,
            f"{obj.best_match_similarity:.2f}",
        )

    @admin.display(description="probability", ordering="probability")
    def probability_short(self, obj: Face) -> str:
        return f"{obj.probability:.3f}"

    # --- face page -----------------------------------------------------------------------------

    def reviewed(self, obj: Face) -> Face:
        if not hasattr(obj, "ordered_matches"):
            queries.face_review(obj)
        return obj

    @admin.display(description="face")
    def large_thumb(self, obj: Face) -> SafeString:
        return thumb(obj.id, 160)

    @admin.display(description="photo")
    def photo(self, obj: Face) -> SafeString | str:
        image = obj.image
        if image.status != "done" or not image.width or not image.height:
            return "-"
        if image.original_deleted and not image.annotated_key:
            return "original deleted, no preview kept"
        box = {
            "left": 100 * obj.x_min / image.width,
            "top": 100 * obj.y_min / image.height,
            "width": 100 * (obj.x_max - obj.x_min) / image.width,
            "height": 100 * (obj.y_max - obj.y_min) / image.height,
        }
        context = {
            "photo_url": reverse("admin:images_image_photo", args=[image.id]),
            "image_url": reverse("admin:images_image_change", args=[image.id]),
            "box": {k: f"{v:.3f}" for k, v in box.items()},
        }
        return mark_safe(render_to_string("recognition/admin/photo.html", context))

    @admin.display(description="suggested subjects")
    def suggestions(self, obj: Face) -> SafeString:
        face = self.reviewed(obj)
        return mark_safe(render_to_string("recognition/admin/suggestions.html", {"face": face}))

    @admin.display(description="cluster")
    def cluster_info(self, obj: Face) -> SafeString | str:
        if obj.cluster_id is None:
            return "— (not in a cluster)"
        others = Face.objects.filter(cluster_id=obj.cluster_id).exclude(pk=obj.pk)
        ids = list(others.order_by("-probability").values_list("id", flat=True)[:CLUSTER_PREVIEW])
        url = reverse("admin:recognition_cluster_change", args=[obj.cluster_id])
        return format_html(
            '<a href="{}">cluster {}</a> with {}', url, obj.cluster_id, thumbs(ids, 40) or "no other face"
        )

    @admin.display(description="matches")
    def match_table(self, obj: Face) -> SafeString:
        face = self.reviewed(obj)
        here = reverse("admin:images_face_change", args=[obj.pk])
        rows = [
            {
                "match": m,
                "other": m.other_face,
                "confirmed": m.other_face.subject_id is not None
                and m.other_face.subject_id == obj.subject_id,
                "confirm_url": reverse("admin:recognition_match_confirm", args=[m.pk]) + f"?next={here}",
                "reject_url": reverse("admin:recognition_match_reject", args=[m.pk]) + f"?next={here}",
            }
            for m in face.ordered_matches
        ]
        return mark_safe(render_to_string("recognition/admin/face_matches.html", {"rows": rows, "face": obj}))

    @admin.display(description="marked different from")
    def rejected(self, obj: Face) -> SafeString | str:
        return thumbs(self.reviewed(obj).rejected_face_ids, 40) or "—"

    @admin.display(description="box")
    def box(self, obj: Face) -> str:
        return (
            f"x {obj.x_min}–{obj.x_max}, y {obj.y_min}–{obj.y_max} "
            f"({obj.x_max - obj.x_min}×{obj.y_max - obj.y_min} px of the original)"
        )

    # --- saving: only through recognition's services ------------------------------------------

    def save_model(self, request, obj: Face, form, change: bool) -> None:
        """The subject is the only thing a reviewer edits here; the pipeline's fields stay."""
        name = form.cleaned_data.get("subject_name", "")
        current = obj.subject.name if obj.subject_id is not None else ""
        if name == current:
            return
        app = obj.application
        try:
            with review.locked(app):
                if name:
                    cleared = review.assign_faces(app, [obj], review.subject_named(app, name))
                    if cleared:
                        self.message_user(
                            request, f"{cleared} rejected match(es) with {name}'s faces cleared."
                        )
                else:
                    review.unassign_faces(app, [obj])
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def delete_model(self, request, obj: Face) -> None:
        subject_services.delete_faces([obj])

    def delete_queryset(self, request, queryset) -> None:
        subject_services.delete_faces(list(queryset.select_related("image")))

    # --- actions -------------------------------------------------------------------------------

    @admin.action(description="Assign selected faces to the subject named below", permissions=["change"])
    def assign_to_subject(self, request, queryset) -> None:
        faces = list(queryset.select_related("image", "subject"))
        app = one_application(self, request, faces)
        if app is None:
            return
        subject = subject_from_action_form(self, request, app)
        if subject is None:
            return
        with review.locked(app):
            cleared = review.assign_faces(app, faces, subject)
        extra = f" ({cleared} rejected match(es) cleared)" if cleared else ""
        self.message_user(request, f"Assigned {len(faces)} faces to {subject.name}{extra}.", messages.SUCCESS)

    @admin.action(description="Unassign selected faces (they are clustered again)", permissions=["change"])
    def remove_from_subject(self, request, queryset) -> None:
        faces = list(queryset.select_related("image", "subject"))
        app = one_application(self, request, faces)
        if app is None:
            return
        try:
            with review.locked(app):
                review.unassign_faces(app, faces)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Unassigned {len(faces)} faces.", messages.SUCCESS)

    @admin.action(
        description="Split selected faces out of their cluster into a new one", permissions=["change"]
    )
    def split_into_new_cluster(self, request, queryset) -> None:
        faces = list(queryset.select_related("cluster"))
        clusters = {f.cluster_id for f in faces}
        if len(clusters) != 1 or None in clusters:
            self.message_user(request, "Select faces of one cluster.", messages.ERROR)
            return
        cluster = faces[0].cluster
        try:
            change = review.split_cluster(cluster.application, cluster, [f.id for f in faces])
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(
            request, f"Moved {len(faces)} faces into cluster {change.new_cluster.pk}.", messages.SUCCESS
        )

    @admin.action(description="Mark the two selected faces as different people", permissions=["change"])
    def mark_different(self, request, queryset) -> None:
        faces = list(queryset.select_related("image", "subject"))
        if len(faces) != 2:
            self.message_user(request, "Select exactly two faces.", messages.ERROR)
            return
        app = one_application(self, request, faces)
        if app is None:
            return
        try:
            review.reject_pair(app, faces[0], faces[1], reviewer(request))
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, "Marked as different people.", messages.SUCCESS)

    @admin.action(
        description="Delete selected faces with their embeddings (and example photos)", permissions=["delete"]
    )
    def delete_with_embeddings(self, request, queryset) -> None:
        count = subject_services.delete_faces(list(queryset.select_related("image")))
        self.message_user(request, f"Deleted {count} faces.", messages.SUCCESS)
