"""The Clusters page: suggested people (unnamed faces grouped as they arrive).

List: a strip of thumbnails and the size of each cluster (a subquery per shown row, thumbnails
by one prefetch for the page). Name selected clusters (their faces become examples of a new or
existing subject) or merge them. The cluster page shows all its faces and names it; splitting is
done on the Faces list filtered by the cluster (select faces, "split out").
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from images.models import Face
from infra.errors import ServiceError
from recognition import queries, review
from recognition import subjects as subject_services
from recognition.admin.faces import SubjectActionForm, subject_from_action_form
from recognition.admin.thumbs import thumbs
from recognition.models import Cluster

PREVIEW_FACES = 8
PAGE_FACES = 200


class ClusterForm(forms.ModelForm):
    subject_name = forms.CharField(
        required=False,
        label="Name this person",
        max_length=subject_services.MAX_NAME,
        help_text="A new or existing subject: every face of the cluster becomes one of its examples "
        "and the cluster goes.",
        widget=forms.TextInput(attrs={"size": 40, "autocomplete": "off"}),
    )

    class Meta:
        model = Cluster
        fields: list[str] = []

    def clean_subject_name(self) -> str:
        value = (self.cleaned_data.get("subject_name") or "").strip()
        if not value:
            return ""
        try:
            return subject_services.clean_name(value)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    form = ClusterForm
    list_display = ("name", "preview", "size", "application", "updated_at")
    list_filter = ("application",)
    list_per_page = 50
    list_select_related = ("application",)
    show_full_result_count = False
    ordering = ("-updated_at", "-id")
    action_form = SubjectActionForm
    actions = ["name_selected", "merge_selected"]
    fields = ("subject_name", "all_faces", "application", "created_at", "updated_at")
    readonly_fields = ("all_faces", "application", "created_at", "updated_at")

    class Media:
        css = {"all": ("recognition/review.css",)}

    def changelist_view(self, request, extra_context=None):
        title = "Clusters: suggested people to name"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(
            request, object_id, form_url, {"title": "Name this cluster", **(extra_context or {})}
        )

    def get_queryset(self, request):
        preview = Face.objects.order_by("-probability", "id").only("id", "cluster_id")[:PREVIEW_FACES]
        return (
            queries.clusters_with_counts(super().get_queryset(request))
            .filter(Exists(Face.objects.filter(cluster=OuterRef("pk"))))
            .prefetch_related(Prefetch("faces", queryset=preview, to_attr="preview_faces"))
        )

    def has_add_permission(self, request) -> bool:
        return False  # clusters come from the pipeline (or a split)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # name, merge or split a cluster; its faces are never deleted with it

    @admin.display(description="cluster", ordering="id")
    def name(self, obj: Cluster) -> str:
        return f"cluster {obj.pk}"

    @admin.display(description="faces")
    def preview(self, obj: Cluster) -> SafeString:
        return thumbs([f.id for f in getattr(obj, "preview_faces", [])], 56)

    @admin.display(description="size", ordering="face_count")
    def size(self, obj: Cluster) -> SafeString:
        url = reverse("admin:images_face_changelist") + f"?cluster={obj.pk}"
        label = "1 face" if obj.face_count == 1 else f"{obj.face_count} faces"
        return format_html('<a href="{}" title="review or split these faces">{}</a>', url, label)

    @admin.display(description="faces")
    def all_faces(self, obj: Cluster) -> SafeString:
        ids = list(obj.faces.order_by("-probability", "id").values_list("id", flat=True)[:PAGE_FACES])
        url = reverse("admin:images_face_changelist") + f"?cluster={obj.pk}"
        return format_html(
            '<div class="fc-grid">{}</div><p><a href="{}">Review these {} faces on the Faces list</a> '
            "(select some and choose “split out” to move them into a new cluster, or “mark different”).</p>",
            thumbs(ids, 96),
            url,
            obj.face_count,
        )

    def save_model(self, request, obj: Cluster, form, change: bool) -> None:
        name = form.cleaned_data.get("subject_name")
        obj.named = None
        if name:
            obj.named = review.name_cluster(obj.application, obj, name)

    def response_change(self, request, obj: Cluster):
        named = getattr(obj, "named", None)
        if named is None:
            return super().response_change(request, obj)
        self.message_user(
            request,
            f"Cluster {obj.pk}: {len(named.face_ids)} faces are now examples of {named.subject.name}.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:recognition_subject_change", args=[named.subject.pk]))

    def log_change(self, request, obj, message):
        if getattr(obj, "named", None) is None:
            return super().log_change(request, obj, message)
        return None  # the cluster is gone; the subject's page tells what happened

    @admin.action(
        description="Name selected clusters: their faces become examples of the subject named below",
        permissions=["change"],
    )
    def name_selected(self, request, queryset) -> None:
        clusters = list(queryset.select_related("application"))
        apps = {c.application_id for c in clusters}
        if len(apps) != 1:
            self.message_user(request, "Select clusters of one application.", messages.ERROR)
            return
        app = clusters[0].application
        subject = subject_from_action_form(self, request, app)
        if subject is None:
            return
        faces = sum(len(review.name_cluster(app, c, subject.name).face_ids) for c in clusters)
        self.message_user(
            request,
            f"{faces} faces of {len(clusters)} cluster(s) are now examples of {subject.name}.",
            messages.SUCCESS,
        )

    @admin.action(description="Merge selected clusters into one", permissions=["change"])
    def merge_selected(self, request, queryset) -> None:
        clusters = list(queryset.select_related("application"))
        if len(clusters) < 2 or len({c.application_id for c in clusters}) != 1:
            self.message_user(request, "Select two or more clusters of one application.", messages.ERROR)
            return
        target = max(clusters, key=lambda c: (c.face_count, -c.pk))
        change = review.merge_clusters(target.application, target, clusters)
        self.message_user(
            request, f"Merged into cluster {target.pk} ({len(change.face_ids)} faces).", messages.SUCCESS
        )
