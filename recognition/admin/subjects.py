"""The Subjects page: named people with their example thumbnails.

List: name, examples (one prefetch for the page), face count (a subquery per shown row); merge
selected subjects into one. Subject page: rename, all examples. Deleting a subject deletes only
the example photos uploaded for it; faces of uploaded images go back to unnamed (and are
clustered again), as DELETE /api/v1/subjects/{name} does.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from images.models import Face, ImagePurpose
from infra.errors import ServiceError
from recognition import queries
from recognition import subjects as services
from recognition.admin.faces import SubjectActionForm
from recognition.admin.thumbs import thumbs
from recognition.models import Subject

PREVIEW_FACES = 8
PAGE_FACES = 200


class SubjectForm(forms.ModelForm):
    class Meta:
        model = Subject
        fields = ["application", "name"]

    def clean_name(self) -> str:
        try:
            return services.clean_name(self.cleaned_data.get("name"), "name")
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    form = SubjectForm
    list_display = ("name", "thumbnails", "size", "application", "created_at")
    list_filter = ("application",)
    search_fields = ("name",)
    list_per_page = 50
    list_select_related = ("application",)
    show_full_result_count = False
    ordering = ("name",)
    action_form = SubjectActionForm
    actions = ["merge_into"]

    class Media:
        css = {"all": ("recognition/review.css",)}

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Subjects: named people", **(extra_context or {})})

    def get_queryset(self, request):
        preview = Face.objects.order_by("-created_at", "id").only("id", "subject_id")[:PREVIEW_FACES]
        return queries.subjects_with_counts(super().get_queryset(request)).prefetch_related(
            Prefetch("faces", queryset=preview, to_attr="preview_faces")
        )

    def get_fields(self, request, obj=None):
        return ("application", "name") if obj is None else ("name", "examples", "application", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("examples", "application", "created_at")

    @admin.display(description="examples")
    def thumbnails(self, obj: Subject) -> SafeString | str:
        return thumbs([f.id for f in getattr(obj, "preview_faces", [])], 48) or "-"

    @admin.display(description="faces", ordering="face_count")
    def size(self, obj: Subject) -> SafeString:
        url = reverse("admin:images_face_changelist") + f"?subject={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.face_count)

    @admin.display(description="examples")
    def examples(self, obj: Subject) -> SafeString:
        ids = list(obj.faces.order_by("-created_at", "id").values_list("id", flat=True)[:PAGE_FACES])
        url = reverse("admin:images_face_changelist") + f"?subject={obj.pk}"
        return format_html(
            '<div class="fc-grid">{}</div><p><a href="{}">All {} faces on the Faces list</a></p>',
            thumbs(ids, 96) or "-",
            url,
            obj.face_count,
        )

    # --- deleting without losing uploaded photos' faces ---------------------------------------

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        faces = Face.objects.filter(subject__in=list(objs))
        examples = faces.filter(image__purpose=ImagePurpose.EXAMPLE).count()
        kept = faces.exclude(image__purpose=ImagePurpose.EXAMPLE).count()
        deleted.append(f"{examples} example photo face(s), with their photos, embeddings and crops")
        deleted.append(f"{kept} face(s) of uploaded images are kept: unassigned, and clustered again")
        return deleted, counts, perms, protected

    def delete_model(self, request, obj: Subject) -> None:
        gone = services.delete_subject(obj)
        self.message_user(
            request,
            f"{gone.subject}: {gone.deleted_faces} example photo(s) deleted, "
            f"{gone.unassigned_faces} face(s) of uploaded images unassigned.",
        )

    def delete_queryset(self, request, queryset) -> None:
        for subject in list(queryset):
            self.delete_model(request, subject)

    def save_model(self, request, obj: Subject, form, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        old = Subject.objects.get(pk=obj.pk).name
        if old != obj.name:
            target, merged, _ = services.rename_subject(obj.application, old, obj.name)
            if merged:
                obj.pk = target.pk  # the page goes on with the subject both are now
                self.message_user(request, f"{old} was merged into the existing subject {target.name}.")

    @admin.action(description="Merge selected subjects into the subject named below", permissions=["change"])
    def merge_into(self, request, queryset) -> None:
        try:
            name = services.clean_name(request.POST.get("subject", ""))
        except ServiceError as exc:
            self.message_user(request, f"Type a subject name below the list: {exc.message}", messages.ERROR)
            return
        apps = set(queryset.values_list("application_id", flat=True))
        if len(apps) != 1:
            self.message_user(request, "Select subjects of one application.", messages.ERROR)
            return
        target, _ = Subject.objects.get_or_create(application_id=apps.pop(), name=name)
        moved, cleared = services.merge_subjects(target.application, list(queryset), target)
        extra = f" ({cleared} rejected match(es) between them cleared)" if cleared else ""
        self.message_user(request, f"Moved {moved} faces into {target.name}{extra}.", messages.SUCCESS)
